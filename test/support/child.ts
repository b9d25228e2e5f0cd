/**
 * Child Node processes for the lifecycle tests (a client or a server the test can SIGKILL). Each child gets
 * its configuration as one JSON argument and reports on stdout, one JSON object per line ({"event": …}).
 * Safety: every child has a hard kill timer (SIGKILL from here), exits by itself when its stdin closes (this
 * process gone) or its own lifetime ends, and is killed by the test that started it (by its PID).
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface ChildLine {
  event: string;
  [key: string]: unknown;
}

/** The scripts beside this file. */
export const CLIENT_CHILD = fileURLToPath(new URL('./client-child.mjs', import.meta.url));
export const SERVER_CHILD = fileURLToPath(new URL('./server-child.mjs', import.meta.url));

export class Child {
  readonly lines: ChildLine[] = [];
  private stderrText = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitPromise: Promise<void>;
  private readonly hardKill: ReturnType<typeof setTimeout>;
  private readonly proc: ChildProcess;

  /**
   * Starts `node <script> '<config JSON>'`. The child is SIGKILLed after `hardKillMs` whatever happens; the
   * script is told to exit by itself a little later still (`lifetimeMs`), in case this process dies first.
   */
  constructor(
    readonly label: string,
    script: string,
    config: Record<string, unknown>,
    hardKillMs: number,
    private readonly onLine: (line: ChildLine) => void = () => {},
  ) {
    this.proc = spawn(process.execPath, [script, JSON.stringify({ ...config, lifetimeMs: hardKillMs + 5000 })], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    this.exitPromise = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        clearTimeout(this.hardKill);
        resolve();
      });
      this.proc.once('error', (e) => {
        this.stderrText += `spawn error: ${e.message}\n`;
        this.exitInfo ??= { code: null, signal: null };
        resolve();
      });
    });
    this.hardKill = setTimeout(() => this.kill(), hardKillMs);
    this.hardKill.unref();
    this.proc.stderr?.setEncoding('utf8');
    this.proc.stderr?.on('data', (s: string) => {
      if (this.stderrText.length < 20_000) this.stderrText += s;
    });
    if (this.proc.stdout) {
      createInterface({ input: this.proc.stdout }).on('line', (text) => {
        let line: ChildLine;
        try {
          line = JSON.parse(text) as ChildLine;
        } catch {
          line = { event: 'text', text };
        }
        this.lines.push(line);
        this.onLine(line);
      });
    }
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get exited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Waits (at most `ms`) for a line with this event; throws with the child's stderr if it exits or the time is up. */
  async line(event: string, ms: number): Promise<ChildLine> {
    const deadline = performance.now() + ms;
    const maxChecks = Math.ceil(ms / 10) + 2;
    for (let i = 0; i < maxChecks && performance.now() < deadline; i++) {
      const found = this.lines.find((l) => l.event === event);
      if (found) return found;
      if (this.exitInfo) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const found = this.lines.find((l) => l.event === event);
    if (found) return found;
    const why = this.exitInfo
      ? `exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal})`
      : `said nothing like it within ${ms} ms`;
    throw new Error(
      `${this.label} (pid ${this.pid}): waiting for '${event}', it ${why}; stdout: ${JSON.stringify(this.lines)}; stderr: ${this.stderrText.trim() || '(empty)'}`,
    );
  }

  /** Writes one line to the child's stdin (a command, for children that read them). */
  tell(line: string): void {
    this.proc.stdin?.write(`${line}\n`);
  }

  /** Sends `signal` to the child (by its PID), unless it has exited. */
  signal(signal: NodeJS.Signals): void {
    if (!this.exitInfo && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }

  /** SIGKILLs the child (by its PID, once); returns performance.now() at the signal. */
  kill(): number {
    const at = performance.now();
    if (!this.exitInfo && this.proc.pid !== undefined && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
    }
    return at;
  }

  /** Resolves once the child has exited (at most `ms`, then it is SIGKILLed again and we stop waiting). */
  async waitExit(ms = 5000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.exitPromise, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  /** Kills the child and waits for it to go: for cleanup. */
  async dispose(): Promise<void> {
    this.kill();
    this.proc.stdin?.destroy();
    await this.waitExit();
    clearTimeout(this.hardKill);
  }

  get stderr(): string {
    return this.stderrText;
  }
}
