/**
 * The `nft` command, for the code that sets nftables rules in a loopback-only namespace (netfilter.ts for the
 * tests, test/bench/net/kernel-loss.ts for the network benchmark): running it, and the one ruleset shape
 * both load, a table with one chain on the prerouting hook.
 */

import { execFile } from 'node:child_process';

export const NFT_MISSING = "the `nft` command is missing: install Debian's nftables package (`apt-get install nftables`); CI installs it";

export interface NftRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `nft args` (with `stdin`), 5 s at most. Rejects only when nft is not installed. */
export function nft(args: string[], stdin?: string): Promise<NftRun> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', args, { timeout: 5000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error(NFT_MISSING));
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (error ? error.message : '') });
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/**
 * `table inet <table>` with one chain on the prerouting hook holding `rules`: prerouting, so a dropped packet
 * is lost on the way in, as on a network (on the output hook the sender's kernel would see a failed send).
 */
export function preroutingRuleset(table: string, chain: string, rules: string[]): string {
  return [
    `table inet ${table} {`,
    `  chain ${chain} {`,
    '    type filter hook prerouting priority 0; policy accept;',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
}
