/** Command-line option parsing on top of node:util parseArgs, with numbers checked and clear errors. */

import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
}

export function parse(
  argv: string[],
  options: Record<string, OptionSpec>,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: attachNegativeValues(argv, options), options, allowPositionals: true, strict: true });
    return { values: values, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** '-1', '-0.5', '-.5', '-1e3': a value, not an option. */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * parseArgs takes `--count -1` for a missing value followed by an unknown option. An option that takes a
 * value followed by something that reads as a negative number gets it attached (`--count=-1`), so the
 * number check can name the option and its range.
 */
function attachNegativeValues(argv: string[], options: Record<string, OptionSpec>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = takesValue(arg, options);
    const next = argv[i + 1];
    if (name !== undefined && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** The long name of the string option `arg` names (`--count` or its short form), if it is one. */
function takesValue(arg: string, options: Record<string, OptionSpec>): string | undefined {
  const long = arg.startsWith('--') ? arg.slice(2) : undefined;
  for (const [name, spec] of Object.entries(options)) {
    if (spec.type === 'string' && (name === long || (spec.short !== undefined && arg === `-${spec.short}`))) return name;
  }
  return undefined;
}

/** A number option: default when absent; UsageError naming the option when not a number in [min, max]. */
export function numberOption(
  values: Record<string, string | boolean | undefined>,
  name: string,
  def: number,
  min: number,
  max: number,
  integer = false,
): number {
  const raw = values[name];
  if (raw === undefined) return def;
  const v = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got '${String(raw)}'`);
  }
  return v;
}
