/** A text progress bar for long commands: `[██████░░░░░░] 150/300`. */

/** The bar for `done` of `total`, `width` cells wide. */
export function progressBar(done: number, total: number, width = 24): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const full = Math.round(frac * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}]`;
}
