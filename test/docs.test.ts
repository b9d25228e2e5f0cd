/**
 * The docs' examples run as shown: every ```ts example block of docs/sdk.md, docs/rooms.md and docs/netcode.md is written to a file and run (real
 * servers and clients on 127.0.0.1), and each `console.log(…); // → text` must print exactly `text`, in order.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(root, 'test', '.docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function examples(doc: string): { name: string; code: string; expected: string[] }[] {
  const text = readFileSync(join(root, doc), 'utf8');
  return [...text.matchAll(/```ts example\n([\s\S]*?)```/g)].map((m, i) => ({
    name: `${doc} example ${i + 1}`,
    code: m[1]!,
    expected: [...m[1]!.matchAll(/console\.log\(.*\);? \/\/ → (.*)$/gm)].map((e) => e[1]!),
  }));
}

describe.each([
  ['docs/sdk.md', 5],
  ['docs/rooms.md', 1],
  ['docs/netcode.md', 3],
])('%s', (doc, least) => {
  const all = examples(doc);
  it('has examples', () => expect(all.length).toBeGreaterThan(least));

  it.each(all.map((e) => [e.name, e] as const))('%s runs and prints what it says', async (_name, e) => {
    const file = join(dir, `${e.name.replace(/\W+/g, '-')}.ts`);
    writeFileSync(file, e.code);
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(' ')));
    try {
      await import(/* @vite-ignore */ pathToFileURL(file).href);
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(e.expected);
  });
});
