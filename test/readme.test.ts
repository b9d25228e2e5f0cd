/** The README's examples must run as shown: the TypeScript block is extracted and executed. */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const dir = mkdtempSync(join(root, 'test', '.readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README', () => {
  it('shows the examples/hello files exactly as they are (the Chromium test runs those files)', () => {
    const blocks = [...readme.matchAll(/```\w+ file=(\S+)\n([\s\S]*?)```/g)];
    expect(blocks.map((b) => b[1])).toEqual([
      'examples/hello/state.ts',
      'examples/hello/server.ts',
      'examples/hello/client.ts',
      'examples/hello/index.html',
    ]);
    for (const [, file, body] of blocks) expect(body, file).toBe(readFileSync(join(root, file!), 'utf8').replace(/\n*$/, '\n'));
  });

  it('starts with the two commands', () => {
    const commands = readme.slice(0, readme.indexOf('## '));
    expect(commands).toContain('npm install && npm start');
    expect(commands).toContain('npm test');
  });

  it('runs the protocol example and prints what it promises', async () => {
    const block = /```ts\n(import \{ ConnectionPair[\s\S]*?)```/.exec(readme)![1]!;
    const file = join(dir, 'example.ts');
    writeFileSync(file, block);
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    try {
      await import(/* @vite-ignore */ pathToFileURL(file).href);
    } finally {
      spy.mockRestore();
    }
    expect(lines[0]).toBe('A fires, B fires, C fires');
    expect(lines[1]).toMatch(/^rtt \d+ ms, [1-9]\d* packet\(s\) lost, [1-9]\d* resent$/);
  });
});
