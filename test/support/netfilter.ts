/**
 * Network cuts with nftables, for the lifecycle tests: drop every packet to and from a server's ports so both
 * sides hear nothing, then remove the rules. Only ever inside the test's own network namespace (npm test runs
 * in a fresh loopback-only one and sets VOLLEY_TEST_ISOLATED=1, see test/run.sh): this refuses to run
 * anywhere else, so the host's own firewall is never touched. Each cut is its own table with a unique name,
 * deleted by remove() (tests call it in finally, and again at cleanup).
 */

import { networkInterfaces } from 'node:os';
import { nft, preroutingRuleset } from './nft.js';

export const ISOLATED = process.env.VOLLEY_TEST_ISOLATED === '1';
export const NOT_ISOLATED_NOTE =
  'network-cut tests need the private network namespace (VOLLEY_TEST_ISOLATED=1): run them via `npm test`, or ' +
  "`unshare -n sh -c 'ip link set lo up && VOLLEY_TEST_ISOLATED=1 npx vitest run test/lifecycle'` as root";

/**
 * For tests that need the namespace: fails (never skips: a skipped test checks nothing) with how to run them.
 */
export function requireIsolation(): void {
  if (!ISOLATED) throw new Error(`this test needs the loopback-only test namespace: ${NOT_ISOLATED_NOTE}`);
}

/** Throws unless we are in the test namespace: VOLLEY_TEST_ISOLATED=1 and no interface but loopback. */
function assertIsolated(): void {
  if (!ISOLATED) throw new Error(`refusing to change nftables: ${NOT_ISOLATED_NOTE}`);
  const others = Object.keys(networkInterfaces()).filter((name) => name !== 'lo');
  if (others.length > 0) {
    throw new Error(
      `refusing to change nftables: VOLLEY_TEST_ISOLATED=1 but this namespace has interfaces besides lo (${others.join(', ')})`,
    );
  }
}

export interface CutPorts {
  /** The server's TCP ports (HTTP: WebSocket, polling, signaling). */
  tcp: number[];
  /** The server's UDP ports (native UDP transport, WebRTC media). */
  udp: number[];
}

let tables = 0;

export class NetCut {
  private removed = false;

  private constructor(
    readonly table: string,
    readonly ports: CutPorts,
  ) {}

  /**
   * Drops (prerouting, so loopback traffic both ways is caught) every TCP packet to or from `ports.tcp` and
   * every UDP packet to or from `ports.udp`, from now until remove().
   */
  static async drop(ports: CutPorts): Promise<NetCut> {
    assertIsolated();
    const version = await nft(['--version']);
    if (version.code !== 0) throw new Error(`nft --version failed: ${version.stderr.trim()}`);
    const table = `volley_lc_${process.pid}_${++tables}`;
    const rules: string[] = [];
    for (const [proto, list] of [
      ['tcp', ports.tcp],
      ['udp', ports.udp],
    ] as const) {
      if (list.length === 0) continue;
      const set = `{ ${list.join(', ')} }`;
      rules.push(`    ${proto} dport ${set} counter drop`, `    ${proto} sport ${set} counter drop`);
    }
    if (rules.length === 0) throw new Error('NetCut.drop: no ports given');
    const ruleset = preroutingRuleset(table, 'cut', rules);
    const r = await nft(['-f', '-'], ruleset);
    if (r.code !== 0) {
      await nft(['delete', 'table', 'inet', table]); // in case half of it went in
      throw new Error(`nft -f failed (${r.code}): ${r.stderr.trim()}\n${ruleset}`);
    }
    return new NetCut(table, ports);
  }

  /** Packets the cut has dropped so far (its rules' counters). */
  async dropped(): Promise<number> {
    if (this.removed) return 0;
    const r = await nft(['list', 'table', 'inet', this.table]);
    let n = 0;
    for (const m of r.stdout.matchAll(/counter packets (\d+)/g)) n += Number(m[1]);
    return n;
  }

  /** Deletes the table (idempotent); throws if it could not be deleted. */
  async remove(): Promise<void> {
    if (this.removed) return;
    const r = await nft(['delete', 'table', 'inet', this.table]);
    if (r.code !== 0) {
      const still = await nft(['list', 'table', 'inet', this.table]);
      if (still.code === 0) throw new Error(`could not delete nft table ${this.table}: ${r.stderr.trim()}`);
    }
    this.removed = true;
  }
}
