/**
 * The `inletsctl list` table for people: one line per tunnel, one short word per cell. A cloud's
 * own status text can be long (the local provider gives the exit node's last log lines when its
 * server exited): the table shows its first words; `list --json` keeps it whole.
 */
import type { ListRow } from '../../core/list-tunnels.js';
import { formatTable } from '../../core/output.js';

/** What each drift means, in the DRIFT column. */
export const DRIFT_TEXT: Record<ListRow['drift'], string> = {
  ok: 'ok',
  missing: 'gone from provider',
  untracked: 'not in state',
  unknown: 'not checked',
  broken: 'provider reports error',
};

/** Longest provider status shown in the table, in characters. */
const STATUS_WIDTH = 24;

/** The first line of the cloud's status text, cut to {@link STATUS_WIDTH}; else the shared word. */
export function shortStatus(row: Pick<ListRow, 'cloud' | 'cloudStatus'>): string {
  const text = (row.cloudStatus ?? '').split('\n')[0].replace(/[;:,]\s.*$/, '').trim();
  if (!text) return row.cloud ?? '-';
  return text.length > STATUS_WIDTH ? `${text.slice(0, STATUS_WIDTH - 1)}…` : text;
}

/** When a tunnel expires (`create --ttl`), relative to `now`: `in 1h 59m`, `expired`, or `-`. */
export function expiryText(expiresAt: string | undefined, now = Date.now()): string {
  const at = expiresAt ? Date.parse(expiresAt) : Number.NaN;
  if (Number.isNaN(at)) return '-';
  const left = Math.floor((at - now) / 60_000);
  if (left < 0) return 'expired';
  const d = Math.floor(left / 1440);
  const h = Math.floor(left / 60) % 24;
  const m = left % 60;
  return `in ${d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m`}`;
}

/** The table, header first. */
export function formatListTable(rows: ListRow[], now = Date.now()): string {
  return formatTable([
    ['NAME', 'PROVIDER', 'REGION', 'IP', 'ID', 'TUNNEL ID', 'STATE', 'PROVIDER STATUS', 'DRIFT', 'EXPIRES'],
    ...rows.map((r) => [r.name, r.provider, r.region ?? '', r.ip ?? '', r.id ?? '', r.tunnelId ?? '-', r.state ?? '-', shortStatus(r), DRIFT_TEXT[r.drift], expiryText(r.expiresAt, now)]),
  ]);
}
