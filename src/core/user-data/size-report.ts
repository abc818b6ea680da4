/**
 * How much room each mode's user-data leaves at each provider: rendered as `create` renders it
 * (the mode's real server bundle, a real TLS pair with the tunnel's subjectAltName, a default-size
 * token: random-looking hex as create makes, since a repetitive one would compress better) at its largest (a 63-character name, a 5-digit control port, `--ttl`), in the provider's
 * format, against the provider's limit. `npm run build` prints it; test/templates/size.test.ts
 * fails when any margin is negative.
 */
import { createHash } from 'node:crypto';
import { providers } from '../../../providers/index.js';
import { engineBundlePath, readEngineBundle } from '../engine-bundle.js';
import { tunnelTls } from '../tunnel-tls.js';
import { renderWithin } from './render.js';
import { bundleModeOf, type HttpsInput, type TunnelMode } from './exit-node-plan.js';

/**
 * HTTPS mode at the size budgeted for: three 40-character domains, an e-mail and the staging
 * issuer, public ports other than 80 and 443 (each further domain costs about 40 bytes; a private ACME CA, --letsencrypt-ca, ~1 KiB).
 */
export const BUDGET_HTTPS: HttpsInput = {
  domains: ['a', 'b', 'c'].map((c) => `${c.repeat(28)}.example.com`),
  email: `${'o'.repeat(20)}@example.com`,
  issuer: 'staging',
  httpPort: 65534,
  httpsPort: 65533,
};

export interface BudgetRow {
  mode: TunnelMode;
  provider: string;
  format: 'cloud-config' | 'script';
  binary: boolean;
  /** The rendered user-data, in bytes. */
  bytes: number;
  /** The provider's limit, in bytes. */
  limitBytes: number;
  /** limitBytes - bytes: negative means it does not fit. */
  margin: number;
  /** HTTPS mode only: the full user-data did not fit, these are the staged one's (PROTOCOL.md §15). */
  staged?: { fullBytes: number };
}

/** One row per mode and provider, tightest margin first. */
export function userDataBudget(): BudgetRow[] {
  const tls = tunnelTls({ name: `inlets-${'x'.repeat(56)}`, tunnelId: 'f'.repeat(12) });
  const rows: BudgetRow[] = [];
  for (const mode of ['tcp', 'https'] as const) {
    const engineBundle = readEngineBundle(engineBundlePath(bundleModeOf(mode)));
    for (const { description } of providers) {
      const { format, binary, limitBytes } = description.userData;
      const { userData, wholeBytes, stagedServer } = renderWithin(
        {
          mode,
          https: mode === 'https' ? BUDGET_HTTPS : undefined,
          token: createHash('sha256').update('budget').digest('hex'),
          tls,
          controlPort: 65535,
          format,
          binary,
          engineBundle,
          expiresAt: '2026-12-31T23:59:59.000Z',
        },
        limitBytes,
      );
      const bytes = userData.length;
      rows.push({ mode, provider: description.name, format, binary, bytes, limitBytes, margin: limitBytes - bytes, ...(stagedServer && { staged: { fullBytes: wholeBytes } }) });
    }
  }
  return rows.sort((a, b) => a.margin - b.margin);
}

/** Per mode, its tightest provider (the one that decides whether it fits), one line each. */
export function formatBudget(rows: BudgetRow[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const r of rows) {
    if (seen.has(r.mode)) continue;
    seen.add(r.mode);
    const others = rows.filter((o) => o.mode === r.mode && o !== r).map((o) => `${o.provider} ${o.margin}${o.staged ? ' (staged)' : ''}`);
    const staged = rows.filter((o) => o.mode === r.mode && o.staged).map((o) => `${o.provider}: the server, ${o.staged!.fullBytes - o.limitBytes} bytes too big for its user-data, is delivered by create (staged)`);
    if (staged.length) lines.push(`user-data, ${r.mode} mode: ${staged.join('; ')}`);
    lines.push(
      `user-data, ${r.mode} mode: ${r.bytes} bytes (${r.format}${r.binary ? ', gzip' : ''}) of ${r.provider}'s ${r.limitBytes}: ` +
        `${r.margin >= 0 ? `${r.margin} bytes left` : `${-r.margin} bytes TOO MANY`}; margins elsewhere: ${others.join(', ')}`,
    );
  }
  return lines.join('\n');
}
