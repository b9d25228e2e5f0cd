/** Command-line option parsing on top of node:util parseArgs, with numbers checked and clear errors. */

import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
}

export function parse(argv: string[], options: Record<string, OptionSpec>): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A number option: default when absent; UsageError naming the option when not a number in [min, max]. */
export function numberOption(values: Record<string, string | boolean | undefined>, name: string, def: number, min: number, max: number, integer = false): number {
  const raw = values[name];
  if (raw === undefined) return def;
  const v = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got '${String(raw)}'`);
  }
  return v;
}
