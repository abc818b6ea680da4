/**
 * The shell scripts the ssh provider sends to the host, always on stdin (`sh -s`), so no secret
 * and no script text is ever in a process's arguments on either side. Everything inletsctl
 * installs is listed in the tunnel's marker directory, /etc/inletsctl/<tunnelId>/ (0700):
 * `name`, `manifest` (the files of the boot script, one path a line), `boot.sh` (0600: it holds
 * the token and TLS key), `run.sh` (runs boot.sh detached), `install.log` and `install.rc`.
 * Delete removes exactly what the marker lists, the unit's state directory and the marker; the
 * packages the script installed (Node) stay.
 */
import { shellWord } from '../../src/core/user-data/boot-script.js';

export const MARKER_ROOT = '/etc/inletsctl';
/** The unit templates/inlets-tcp.service installs. */
export const UNIT = 'inlets.service';
/** Exit codes of the install script that mean "not ours to change". */
export const EXIT_OTHER_TUNNEL = 17;
export const EXIT_FOREIGN_UNIT = 18;

function markerDir(tunnelId: string): string {
  if (!/^[0-9a-f]{12}$/.test(tunnelId)) throw new Error(`not a tunnel id: ${tunnelId}`);
  return `${MARKER_ROOT}/${tunnelId}`;
}

function heredoc(body: string, base: string): { open: string; close: string } {
  let delimiter = base;
  while (body.split('\n').includes(delimiter)) delimiter += '_';
  return { open: `<<'${delimiter}'`, close: delimiter };
}

/**
 * Installs: refuses when another tunnel's marker or an unmarked inlets unit is there, writes the
 * marker, then starts `boot.sh` detached (a transient systemd unit, else setsid) and returns at once.
 */
export function installScript(o: { tunnelId: string; name: string; bootScript: string; files: string[] }): string {
  const d = markerDir(o.tunnelId);
  const boot = heredoc(o.bootScript.replace(/\n$/, ''), 'INLETSCTL_BOOT_EOF');
  return [
    'set -eu',
    'umask 077',
    `d=${d}`,
    `if [ -d "$d" ]; then echo "already installed"; exit 0; fi`,
    `for other in ${MARKER_ROOT}/*; do`,
    '  [ "$other" = "$d.tmp" ] && continue',
    `  if [ -d "$other" ]; then echo "inletsctl: tunnel $(cat "$other/name" 2>/dev/null || basename "$other") is already installed on this host" >&2; exit ${EXIT_OTHER_TUNNEL}; fi`,
    'done',
    `if [ -e /etc/systemd/system/${UNIT} ]; then echo "inletsctl: /etc/systemd/system/${UNIT} exists and was not installed by inletsctl; not touching it" >&2; exit ${EXIT_FOREIGN_UNIT}; fi`,
    `mkdir -p ${MARKER_ROOT} "$d.tmp"`,
    `printf '%s\\n' ${shellWord(o.name)} >"$d.tmp/name"`,
    `printf '%s\\n' ${o.files.map(shellWord).join(' ')} >"$d.tmp/manifest"`,
    `cat >"$d.tmp/boot.sh" ${boot.open}`,
    o.bootScript.replace(/\n$/, ''),
    boot.close,
    // A file, not `sh -c '…'`: systemd re-reads a transient unit's command line at each
    // daemon-reload (the boot script makes one) and warns about the escapes of an inline one.
    `printf '%s\\n' ${shellWord('bash "$1/boot.sh" >"$1/install.log" 2>&1; echo $? >"$1/install.rc"')} >"$d.tmp/run.sh"`,
    'mv "$d.tmp" "$d"',
    'if command -v systemd-run >/dev/null 2>&1 && [ -d /run/systemd/system ]; then',
    `  systemd-run --quiet --no-block --collect --unit=inletsctl-install-${o.tunnelId} sh "$d/run.sh" "$d"`,
    'else',
    '  setsid nohup sh "$d/run.sh" "$d" </dev/null >/dev/null 2>&1 &',
    'fi',
    'echo started',
    '',
  ].join('\n');
}

/** Prints `marker=`, `name=`, `rc=` (install exit code, empty while running) and `unit=` lines. Reads only. */
export function statusScript(tunnelId: string): string {
  const d = markerDir(tunnelId);
  return [
    `d=${d}`,
    'if [ ! -d "$d" ]; then echo marker=absent; exit 0; fi',
    'echo marker=present',
    'echo "name=$(cat "$d/name" 2>/dev/null)"',
    'echo "rc=$(cat "$d/install.rc" 2>/dev/null)"',
    `echo "unit=$(systemctl is-active ${UNIT} 2>/dev/null)"`,
    '',
  ].join('\n');
}

/** One step of removal: `pending` while the install still runs, `gone` once nothing of the tunnel is left. */
export function deleteScript(tunnelId: string): string {
  const d = markerDir(tunnelId);
  return [
    `d=${d}`,
    'if [ ! -d "$d" ]; then rm -rf -- "$d.tmp"; echo gone; exit 0; fi',
    // Never interrupt apt or the boot script half-way: the next step looks again.
    `if [ ! -f "$d/install.rc" ] && { systemctl is-active --quiet inletsctl-install-${tunnelId}.service 2>/dev/null || pgrep -f "$d/boot.sh" >/dev/null 2>&1; }; then echo pending; exit 0; fi`,
    `systemctl disable --now ${UNIT} >/dev/null 2>&1 || true`,
    'while IFS= read -r f; do [ -n "$f" ] && rm -f -- "$f"; done <"$d/manifest"',
    'rmdir /etc/inlets/tls /etc/inlets /usr/local/lib/inlets 2>/dev/null || true',
    'rm -rf /var/lib/private/inlets /var/lib/inlets',
    'systemctl daemon-reload >/dev/null 2>&1 || true',
    'rm -rf -- "$d"',
    `rmdir ${MARKER_ROOT} 2>/dev/null || true`,
    'echo gone',
    '',
  ].join('\n');
}

/** One `tunnel=<id> name=<name>` line per marker. Reads only. */
export function listScript(): string {
  return [
    `for d in ${MARKER_ROOT}/*; do`,
    '  [ -f "$d/name" ] || continue',
    '  echo "tunnel=$(basename "$d") name=$(cat "$d/name")"',
    'done',
    '',
  ].join('\n');
}

/** `key=value` lines into a map. */
export function readKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}
