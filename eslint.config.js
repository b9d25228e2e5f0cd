// Lint rules (npm run lint; CI runs it). typescript-eslint with type information, so rules such as
// no-floating-promises see real types. The rules also carry the architecture (docs/architecture.md):
// the protocol package has no clock, timer or randomness of its own, and packages import each other by
// name, never by a relative path into another package's files.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ambient = [
  { name: 'setTimeout', message: 'The protocol is sans-I/O: return a deadline from nextTimeout() instead.' },
  { name: 'setInterval', message: 'The protocol is sans-I/O: return a deadline from nextTimeout() instead.' },
  { name: 'setImmediate', message: 'The protocol is sans-I/O: no timers.' },
  { name: 'queueMicrotask', message: 'The protocol is sans-I/O: no scheduling of its own.' },
  { name: 'clearTimeout', message: 'The protocol is sans-I/O: no timers.' },
  { name: 'clearInterval', message: 'The protocol is sans-I/O: no timers.' },
  { name: 'performance', message: 'The protocol is sans-I/O: time is passed in (now).' },
  { name: 'Date', message: 'The protocol is sans-I/O: time is passed in (now).' },
  { name: 'crypto', message: 'The protocol has no randomness of its own: take a RandomSource.' },
  { name: 'process', message: 'The protocol runs anywhere: no Node globals.' },
  { name: 'window', message: 'The protocol runs anywhere: no DOM globals.' },
  { name: 'document', message: 'The protocol runs anywhere: no DOM globals.' },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'test/.readme-*/**', 'examples/*/dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.test.json', './packages/*/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(packages/)?(protocol|udp|server|client|testing|cli|devtools)/',
              message: 'Import another package by its name (@volley/protocol, @volley/server, @volley/client), not by a path into it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/protocol/src/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', ...ambient],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='Math'][property.name='random']",
          message: 'No ambient randomness in the protocol: take a RandomSource.',
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', URL: 'readonly' } },
  },
);
