/**
 * Checks on what the state file holds, for commands that show it: a record a hand edit (or a bug)
 * left without its fields is skipped with a warning instead of crashing the command, and a state
 * file others can read (it holds tokens) is pointed out rather than fixed behind the user's back.
 */
import { stat } from 'node:fs/promises';
import type { TunnelRecord } from './state-store.js';

/** Why `value` is not a usable record (the first missing or mistyped field), or undefined. */
export function recordProblem(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return 'not an object';
  const r = value as Record<string, unknown>;
  for (const field of ['name', 'provider', 'region', 'status', 'token', 'pin', 'createdAt'] as const) {
    if (typeof r[field] !== 'string' || r[field] === '') return `no "${field}"`;
  }
  if (typeof r.controlPort !== 'number') return 'no "controlPort"';
  if (!Array.isArray(r.ports)) return 'no "ports"';
  return undefined;
}

/** Splits records into usable ones and a warning per skipped one (by position, never by secret). */
export function usableRecords(records: unknown[], statePath: string): { records: TunnelRecord[]; warnings: string[] } {
  const usable: TunnelRecord[] = [];
  const warnings: string[] = [];
  records.forEach((value, i) => {
    const problem = recordProblem(value);
    if (problem) {
      const name = typeof (value as { name?: unknown })?.name === 'string' ? ` "${(value as { name: string }).name}"` : '';
      warnings.push(`skipping record ${i + 1}${name} of ${statePath}: ${problem} (the file is left as it is)`);
    } else {
      usable.push(value as TunnelRecord);
    }
  });
  return { records: usable, warnings };
}

/** A warning when the state file is readable or writable by anyone but its owner, else undefined. */
export async function stateModeWarning(statePath: string): Promise<string | undefined> {
  try {
    const mode = (await stat(statePath)).mode & 0o777;
    if (mode & 0o077) return `${statePath} has mode ${mode.toString(8).padStart(4, '0')} and holds tunnel tokens: run chmod 600 ${statePath}`;
  } catch {
    // no file yet: nothing to warn about
  }
  return undefined;
}
