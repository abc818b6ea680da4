/**
 * Durations as inletsctl users write them (`--poll 2s`, `--timeout 10m`): a number with a unit
 * `ms`, `s`, `m` or `h`, or several of them (`1m30s`). A bare number means seconds.
 */
import { UsageError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration to milliseconds. @throws UsageError `BAD_DURATION` naming `flag`. */
export function parseDuration(value: string | number, flag: string): number {
  const text = String(value).trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
      throw new UsageError(`--${flag} "${text}" is not a duration: use for example 500ms, 2s, 10m or 1m30s`, 'BAD_DURATION');
    }
    ms = parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_MS[unit], 0);
  }
  if (ms <= 0) throw new UsageError(`--${flag} must be longer than 0`, 'BAD_DURATION');
  return Math.round(ms);
}
