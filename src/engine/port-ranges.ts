/**
 * Port ranges as given to `--allow-ports`: a comma-separated list of single ports and inclusive
 * ranges, for example `1024-65535,80,443`.
 */
import { UsageError } from '../errors.js';

/** An inclusive range of TCP ports, `from` ≤ `to`, both in 1–65535. */
export interface PortRange {
  from: number;
  to: number;
}

/** Parses one port number (1–65535); `what` names the flag in the error. */
export function parsePort(text: string, what = 'port'): number {
  const t = text.trim();
  const n = /^\d{1,5}$/.test(t) ? Number(t) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new UsageError(`${what}: "${text}" is not a port (1-65535)`);
  return n;
}

/** Parses `1024-65535,80,443` into ranges; throws UsageError on anything malformed. */
export function parsePortRanges(text: string, what = '--allow-ports'): PortRange[] {
  const ranges: PortRange[] = [];
  for (const part of text.split(',')) {
    if (!part.trim()) throw new UsageError(`${what}: empty entry in "${text}"`);
    const [a, b, extra] = part.split('-');
    if (extra !== undefined) throw new UsageError(`${what}: "${part}" is not a port or a range`);
    const from = parsePort(a, what);
    const to = b === undefined ? from : parsePort(b, what);
    if (to < from) throw new UsageError(`${what}: range "${part}" ends before it starts`);
    ranges.push({ from, to });
  }
  return ranges;
}

/** True when `port` lies in any of `ranges`; an absent list allows every port. */
export function portAllowed(port: number, ranges?: readonly PortRange[]): boolean {
  return !ranges || ranges.some((r) => port >= r.from && port <= r.to);
}

/** Formats ranges back to the flag syntax, for messages. */
export function formatPortRanges(ranges: readonly PortRange[]): string {
  return ranges.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(',');
}
