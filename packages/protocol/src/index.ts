export * from './sequence.js';
