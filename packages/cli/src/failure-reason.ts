/**
 * A failure as `volley loadtest` counts it: the error's code when it has one, and what it says with the
 * variable parts (numbers, URLs) left out, so that the same failure of many bots counts as one reason.
 */
export function reasonOf(e: unknown): string {
  const err = e as { code?: unknown; name?: unknown; message?: unknown } | undefined;
  const text = String(err?.message ?? e)
    .replace(/\b\w+:\/\/\S+/g, 'URL')
    .replace(/\d+(\.\d+)?/g, 'N')
    .slice(0, 100);
  const code = typeof err?.code === 'string' ? err.code : typeof err?.name === 'string' && err.name !== 'Error' ? err.name : undefined;
  return code ? `${code} (${text})` : text;
}
