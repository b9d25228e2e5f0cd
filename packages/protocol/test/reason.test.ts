/** The reason-code table of docs/protocol.md §5 is the code's DisconnectReason, both ways. */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DisconnectReason, reasonName } from '../src/index.js';

const spec = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

describe('reason codes', () => {
  it('docs/protocol.md lists exactly the codes DisconnectReason has, with the same names', () => {
    const rows = [...spec.matchAll(/^\| (\d+)\s+\| (\w+)\s+\|/gm)].map((m) => [m[2]!, Number(m[1])] as const);
    expect(rows.length).toBeGreaterThan(0);
    expect(Object.fromEntries(rows)).toEqual({ ...DisconnectReason });
  });

  it('names every code, applications from 32 up', () => {
    for (const [name, code] of Object.entries(DisconnectReason)) expect(reasonName(code)).toBe(name);
    expect(reasonName(40)).toBe('Application(40)');
    expect(reasonName(20)).toBe('Unknown(20)');
  });
});
