/**
 * The state digest (docs/protocol.md §9, DIGEST): equal states hash equal however they were built (map
 * insertion order, -0), any reliable difference changes it, `@unreliable` fields do not count, and a known
 * state has a known digest (so the two ends agree across versions).
 */
import { describe, expect, it } from 'vitest';
import { schema, t } from '@colyseus/schema';
import { stateDigest } from '../src/index.js';

const Item = schema({ n: t.number(), tag: t.string() }, 'SdItem');
const Thing = schema({ x: t.number(), hp: t.uint8(), seen: t.number().unreliable(), items: t.array(Item) }, 'SdThing');
const World = schema({ things: t.map(Thing), name: t.string(), on: t.boolean() }, 'SdWorld');

function world(keys: string[]): InstanceType<typeof World> {
  const w = new World().assign({ name: 'w', on: true });
  for (const k of keys) w.things.set(k, new Thing().assign({ x: k.charCodeAt(0), hp: 1, seen: 0 }));
  return w;
}

describe('stateDigest', () => {
  it('is the same for equal states, whatever the map insertion order', () => {
    expect(stateDigest(world(['a', 'b', 'c']))).toBe(stateDigest(world(['c', 'a', 'b'])));
  });
  it('changes with any reliable field, item or key', () => {
    const base = stateDigest(world(['a', 'b']));
    const w1 = world(['a', 'b']);
    w1.things.get('a')!.x = 1000;
    const w2 = world(['a', 'b']);
    w2.things.get('b')!.items.push(new Item().assign({ n: 1, tag: '' }));
    const w3 = world(['a', 'c']);
    const w4 = world(['a', 'b']);
    w4.name = 'W';
    for (const w of [w1, w2, w3, w4]) expect(stateDigest(w)).not.toBe(base);
  });
  it('leaves @unreliable fields out, and treats -0 as 0', () => {
    const w = world(['a']);
    const base = stateDigest(w);
    w.things.get('a')!.seen = 99;
    expect(stateDigest(w)).toBe(base);
    w.things.get('a')!.x = -0;
    const z = world(['a']);
    z.things.get('a')!.x = 0;
    expect(stateDigest(w)).toBe(stateDigest(z));
  });
  it('has a fixed value for a known state (the wire spec, not an accident of this build)', () => {
    expect(stateDigest(world(['a']))).toBe(stateDigest(world(['a'])));
    expect(stateDigest(world(['a'])).toString(16)).toBe('9efc35c5');
    // FNV-1a over type 4, length 1 (u32 LE), 'a' (UTF-16 LE): computed by hand in Python.
    expect(stateDigest('a')).toBe(0x5d93a34b);
  });
});
