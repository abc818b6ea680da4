/**
 * Results on stdout: text for people, or with `--json` exactly one JSON object (for scripts).
 * Progress and warnings never go here (see progress.ts).
 */

/** Writes one JSON object and a newline to stdout. */
export function printJson(value: object): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes text to stdout, ending with a newline. */
export function printText(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A warning line on stderr. */
export function warn(text: string): void {
  process.stderr.write(`inletsctl: warning: ${text}\n`);
}

/** Aligns rows into columns separated by two spaces; the first row is the header. */
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd())
    .join('\n');
}
