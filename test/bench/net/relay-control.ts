/**
 * The benchmark's side of a relay process (relay-process.ts): forks it, gives it the path to emulate, and
 * reads its ports and counters. Every wait is bounded; stop() always ends the child (SIGKILL by its PID if it
 * does not exit within STOP_TIMEOUT_MS).
 */

import { fork, type ChildProcess } from 'node:child_process';
import type { FromRelay, RelaySpec, RelayStats, ToRelay } from './relay-protocol.js';

const READY_TIMEOUT_MS = 20_000;
const ANSWER_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;

export class RelayProcess {
  private stopped = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly ports: Record<string, number>,
  ) {}

  /** Starts a relay process for `spec`; resolves once every relay listens. */
  static async start(spec: RelaySpec): Promise<RelayProcess> {
    const child = fork(new URL('./relay-process.ts', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      const ready = next(child, 'ready', READY_TIMEOUT_MS);
      send(child, { type: 'start', spec });
      const m = await ready;
      if (m.type !== 'ready') throw new Error('relay: unexpected answer');
      return new RelayProcess(child, m.ports);
    } catch (e) {
      await end(child);
      throw e;
    }
  }

  port(name: string): number {
    const p = this.ports[name];
    if (p === undefined) throw new Error(`relay: no relay named ${name}`);
    return p;
  }

  async stats(): Promise<RelayStats> {
    const answer = next(this.child, 'stats', ANSWER_TIMEOUT_MS);
    send(this.child, { type: 'stats' });
    const m = await answer;
    if (m.type !== 'stats') throw new Error('relay: unexpected answer');
    return m.stats;
  }

  /** Closes the relays and ends the process; resolves with the final counters (undefined if it could not say). */
  async stop(): Promise<RelayStats | undefined> {
    if (this.stopped) return undefined;
    this.stopped = true;
    let final: RelayStats | undefined;
    try {
      const answer = next(this.child, 'stopped', ANSWER_TIMEOUT_MS);
      send(this.child, { type: 'stop' });
      const m = await answer;
      if (m.type === 'stopped') final = m.stats;
    } catch {
      // ended below all the same
    }
    await end(this.child);
    return final;
  }
}

function send(child: ChildProcess, m: ToRelay): void {
  if (child.connected) child.send(m);
}

/** The next message of `type` from `child` (an 'error' message rejects), or a rejection after `ms` or if it exits first. */
function next(child: ChildProcess, type: FromRelay['type'], ms: number): Promise<FromRelay> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`relay: no '${type}' within ${ms} ms`)), ms);
    const onMessage = (m: FromRelay): void => {
      if (m.type === 'error') done(new Error(`relay: ${m.message}`));
      else if (m.type === type) done(undefined, m);
    };
    const onExit = (code: number | null): void => done(new Error(`relay: the process exited (${code}) before '${type}'`));
    function done(error?: Error, m?: FromRelay): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(m!);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Disconnects and waits for the child to exit; kills it by its PID after STOP_TIMEOUT_MS. */
async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.disconnect();
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
