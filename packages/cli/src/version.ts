/** The version of the `volley` command: packages/cli/package.json, read at run time. */

import { readFileSync } from 'node:fs';

export function version(): string {
  // From dist/ (or src/), the package root is one level up.
  const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const v = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  if (typeof v !== 'string') throw new Error('packages/cli/package.json has no version');
  return v;
}
