/** Session lifecycle over websocket: every way a session ends, reported exactly once per side (see matrix.ts). */
import { lifecycleMatrix } from './matrix.js';

lifecycleMatrix('websocket');
