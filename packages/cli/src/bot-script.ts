/**
 * What a `volley loadtest` bot does once it has joined its room: a script. Three are built in, and a module
 * may bring its own (`--script ./my-bot.mjs`, whose default export is a BotScript), for a game whose inputs
 * are its own (examples/shooter/loadtest-bot.ts drives the shooter's input schema).
 *
 * - `idle`: joins and receives the state, sends nothing.
 * - `move`: sends `move` { angle, speed } on the unreliable channel 20 times a second, turning a little each
 *   time (a player steering).
 * - `shoot`: `move`, and `shoot` { angle, viewTime } on the reliable-ordered channel twice a second (viewTime:
 *   the server's clock, as a lag-compensated shooter sends it).
 */

import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { Room } from '@volley/client';

/** What a script gets for one bot. */
export interface BotContext {
  readonly room: Room;
  /** The bot's number in the whole load test, from 0. */
  readonly index: number;
  /** A random number in [0, 1), seeded by the bot's number: the same run gives every bot the same moves. */
  random(): number;
  /** Runs `run` every `ms` until the bot stops (the load test ends or the bot leaves its room); what it throws, or rejects with, is ignored. */
  every(ms: number, run: () => void | Promise<void>): void;
}

/** Starts one bot's behaviour; whatever it schedules with `every` stops with the bot. */
export type BotScript = (bot: BotContext) => void | Promise<void>;

export const BUILTIN_SCRIPTS = ['idle', 'move', 'shoot'] as const;
export type BuiltinScript = (typeof BUILTIN_SCRIPTS)[number];

/** Input rate of `move` (per second) and fire rate of `shoot`. */
const MOVE_HZ = 20;
const SHOOT_HZ = 2;

function steer(bot: BotContext): () => number {
  let angle = bot.random() * 2 * Math.PI;
  bot.every(1000 / MOVE_HZ, () => {
    angle += (bot.random() - 0.5) * 0.6;
    bot.room.send('move', { angle, speed: 1 }, { channel: 'unreliable' });
  });
  return () => angle;
}

const scripts: Record<BuiltinScript, BotScript> = {
  idle: () => {},
  move: (bot) => void steer(bot),
  shoot: (bot) => {
    const angle = steer(bot);
    bot.every(1000 / SHOOT_HZ, () => bot.room.send('shoot', { angle: angle(), viewTime: bot.room.serverTime() }));
  },
};

export function isBuiltinScript(name: string): name is BuiltinScript {
  return (BUILTIN_SCRIPTS as readonly string[]).includes(name);
}

/** A built-in script by name, or the default export of the module at `name` (a path or a file: URL). */
export async function loadScript(name: string): Promise<BotScript> {
  if (isBuiltinScript(name)) return scripts[name];
  let mod: { default?: unknown };
  try {
    mod = (await import(name.startsWith('file:') ? name : pathToFileURL(resolve(name)).href)) as { default?: unknown };
  } catch (e) {
    throw new Error(
      `--script ${name}: not one of ${BUILTIN_SCRIPTS.join(', ')}, and cannot load it as a module: ${(e as Error)?.message ?? String(e)}`,
      { cause: e },
    );
  }
  if (typeof mod.default !== 'function') throw new Error(`--script ${name}: its default export must be a function (bot) => void`);
  return mod.default as BotScript;
}
