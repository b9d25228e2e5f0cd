import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@volley/protocol': src('protocol'),
      '@volley/udp': src('udp'),
      '@volley/testing': src('testing'),
      '@volley/devtools': src('devtools'),
      '@volley/server': src('server'),
      '@volley/client': fileURLToPath(new URL('./packages/client/src/node.ts', import.meta.url)),
      volley: src('cli'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/bench/**'],
    testTimeout: 60_000,
  },
});
