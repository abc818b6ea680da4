/**
 * `--generate systemd`: a unit for the command being run, with the same flags, whose token lives in
 * an EnvironmentFile (`INLETS_TOKEN=…`, mode 0600) and reaches the process through
 * `--token-env INLETS_TOKEN`, never through the command line.
 */
import { UsageError } from '../../errors.js';

/** Flags never copied into the unit: secrets and the generator itself. */
const SKIPPED = new Set(['token', 'token-file', 'token-env', 'generate', 'help']);

/** Quotes one ExecStart word for systemd (`%` and `$` are special there). */
function quote(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[\w@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/[\\"]/g, '\\$&')}"`;
}

/** Turns parsed flag values back into `--name value` words, secrets left out. */
export function flagWords(values: Record<string, unknown>): string[] {
  const words: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (SKIPPED.has(name) || value === undefined || value === false) continue;
    for (const v of Array.isArray(value) ? value : [value]) words.push(`--${name}`, ...(v === true ? [] : [String(v)]));
  }
  return words;
}

export interface UnitSpec {
  /** `server` or `client`. */
  role: 'server' | 'client';
  /** `tcp` (default) or `http`. */
  mode?: 'tcp' | 'http';
  /** Node binary and script, absolute (default: this process's). */
  node?: string;
  script?: string;
  /** Flags from the command line (parsed values). */
  values: Record<string, unknown>;
}

/** The unit text for `inlets tcp server|client`; throws UsageError for a generator other than systemd. */
export function systemdUnit(kind: string, spec: UnitSpec): string {
  if (kind !== 'systemd') throw new UsageError(`--generate: unknown format "${kind}" (only "systemd")`);
  const mode = spec.mode ?? 'tcp';
  const name = `inlets-${mode}-${spec.role}`;
  const env = `/etc/default/${name}`;
  const exec = [spec.node ?? process.execPath, spec.script ?? process.argv[1], mode, spec.role, ...flagWords(spec.values), '--token-env', 'INLETS_TOKEN'];
  return `# /etc/systemd/system/${name}.service
# The token is kept out of this file and the command line. Put it in ${env}
# (owned by root, mode 0600: install -m 600 /dev/null ${env}) as one line:
#   INLETS_TOKEN=<token>
# then: systemctl daemon-reload && systemctl enable --now ${name}
[Unit]
Description=inlets ${mode.toUpperCase()} tunnel ${spec.role}
After=network-online.target
Wants=network-online.target

[Service]
EnvironmentFile=${env}
ExecStart=${exec.map(quote).join(' ')}
Restart=always
RestartSec=2
LimitNOFILE=1048576
${spec.role === 'server' ? 'StateDirectory=inlets\nEnvironment=INLETS_STATE_DIR=/var/lib/inlets\n' : ''}
[Install]
WantedBy=multi-user.target
`;
}
