/**
 * Durations as inletsctl users write them (`--poll 2s`, `--timeout 10m`, `--ttl 2h`): a number
 * with a unit `ms`, `s`, `m`, `h` or `d`, or several of them (`1m30s`). Every command's duration
 * flags go through here. A bare number is refused: `10` could mean seconds or minutes.
 */
import { UsageError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration to milliseconds (rounded, more than 0).
 * @throws UsageError `BAD_DURATION` naming `--flag` and the value.
 */
export function parseDuration(value: string | number, flag: string): number {
  const text = String(value).trim();
  const bad = (why: string) => new UsageError(`--${flag} "${text}" ${why}`, 'BAD_DURATION');
  if (/^-?\d+(\.\d+)?$/.test(text)) throw bad(`needs a unit: for example ${text.replace(/^-/, '')}s or ${text.replace(/^-/, '')}m`);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw bad('is not a duration: use for example 500ms, 2s, 10m, 2h or 1m30s');
  }
  const ms = Math.round(parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_MS[unit], 0));
  if (ms <= 0) throw bad('must be longer than 0');
  return ms;
}
