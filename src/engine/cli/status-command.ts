/** `inlets status`: asks a server's control port for `GET /status` and prints it. */
import { TunnelError, UsageError } from '../../errors.js';
import type { ServerStatus } from '../server/status-info.js';
import { requestControl } from '../transport/control-request.js';
import { FLAG_HELP } from './flag-help.js';
import { LOG_FLAG, TOKEN_FLAGS, TRUST_FLAGS, helpText, loggerFrom, parseFlags, tokenFrom, trustFrom } from './shared-flags.js';

const FLAGS = { url: ['URL'], ...TOKEN_FLAGS, ...TRUST_FLAGS, json: [''], ...LOG_FLAG } as const;

export const STATUS_HELP = helpText('status --url wss://HOST:8123 [flags]', "Shows a server's version, uptime and connected clients.", FLAGS, FLAG_HELP);

/** `3d 4h`, `5h 2m`, `7m 3s`: a duration for people. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const parts: [number, string][] = [[Math.floor(s / 86400), 'd'], [Math.floor(s / 3600) % 24, 'h'], [Math.floor(s / 60) % 60, 'm'], [s % 60, 's']];
  const first = parts.findIndex(([n]) => n > 0);
  return first < 0 ? '0s' : parts.slice(first, first + 2).filter(([n], i) => !i || n).map(([n, u]) => `${n}${u}`).join(' ');
}

/** The status as a person reads it: a header and a table of clients. */
export function formatStatus(st: ServerStatus, now = Date.now()): string {
  const lines = [
    // "host" says what the word is: a local exit node on a machine called "vm" is not on a VM.
    `inlets ${st.version} (${st.mode}) on host ${st.hostname}, up ${ago(now - Date.parse(st.startedAt))} (since ${st.startedAt})`,
    `ports: ${st.ports.map((p) => `${p.port} → ${p.clients.join(', ')}`).join('; ') || 'none'}`,
  ];
  if (st.hosts) lines.push(`hosts: ${st.hosts.map((h) => `${h.host} → ${h.clients.join(', ')}`).join('; ') || 'none'}`);
  for (const c of st.certificates ?? []) {
    const retry = `${c.lastError}; next attempt ${c.nextAttemptAt}`;
    const detail =
      c.state === 'issued'
        ? `expires ${c.expiresAt}${c.renewsAt ? `, renews from ${c.renewsAt}` : ''}${c.lastError ? `; renewal failed: ${retry}` : ''}`
        : c.state === 'error'
          ? retry
          : 'waiting for DNS or the CA';
    lines.push(`certificate ${c.domain}: ${c.state}, ${detail}`);
  }
  lines.push('');
  if (!st.clients.length) return lines.concat('no clients connected', '').join('\n');
  const rows = [['CLIENT', 'REMOTE ADDRESS', 'CONNECTED', 'PORTS', ...(st.hosts ? ['HOSTS'] : [])], ...st.clients.map((c) => [c.id, c.remoteAddress, `${ago(now - Date.parse(c.connectedAt))} ago`, c.ports.join(','), ...(st.hosts ? [st.hosts.filter((h) => h.clients.includes(c.id)).map((h) => h.host).join(',') || '-'] : [])])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) lines.push(r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
  return lines.join('\n') + '\n';
}

export async function statusCommand(args: string[]): Promise<void> {
  const v = parseFlags(args, FLAGS);
  if (v.help) return void process.stdout.write(STATUS_HELP);
  if (!v.url) throw new UsageError('--url is required, e.g. --url wss://203.0.113.10:8123');
  const trust = await trustFrom(v, v.url);
  const token = await tokenFrom(v, loggerFrom(v));
  const res = await requestControl({ url: v.url, path: '/status', token, trust });
  const body = res.body;
  if (res.status === 401) throw new TunnelError('AUTH_FAILED', 'the server refused the token (401)');
  if (res.status !== 200) throw new TunnelError('STATUS_FAILED', `GET /status answered ${res.status}: ${body.slice(0, 200)}`);
  let st: ServerStatus;
  try {
    st = JSON.parse(body) as ServerStatus;
  } catch {
    throw new TunnelError('STATUS_FAILED', 'GET /status did not answer JSON');
  }
  process.stdout.write(v.json ? JSON.stringify(st, null, 2) + '\n' : formatStatus(st));
}
