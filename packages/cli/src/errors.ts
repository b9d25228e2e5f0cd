/**
 * How the `volley` command reports failures: a user error is one line and an exit code, never a stack
 * trace. Anything unexpected prints `volley: <message>` too; VOLLEY_DEBUG=1 adds the stack.
 */

/** A failure the user can act on (busy port, unknown host, …): printed as one line, exit code 1. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/** Prints an unexpected error as `volley: <message>` (with its stack under VOLLEY_DEBUG=1); returns exit code 1. */
export function reportUnexpected(e: unknown): number {
  console.error(`volley: ${messageOf(e)}`);
  if (process.env.VOLLEY_DEBUG === '1' && e instanceof Error && e.stack) console.error(e.stack);
  return 1;
}

/** For errors thrown outside main's reach (a timer, an event listener): report and exit 1. */
export function crash(e: unknown): never {
  process.exit(reportUnexpected(e));
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The errno-style code of a system error ('EADDRINUSE', 'ENOTFOUND', …), also when only its message names it. */
export function systemErrorCode(e: unknown): string | undefined {
  const code = e instanceof Error && 'code' in e ? e.code : undefined;
  if (typeof code === 'string') return code;
  return /\b(E[A-Z]{2,}|EAI_[A-Z]+)\b/.exec(messageOf(e))?.[1];
}
