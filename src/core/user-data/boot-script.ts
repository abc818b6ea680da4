/**
 * The `#!/bin/bash` form of an exit node plan, for images and clouds that run a startup script
 * instead of cloud-init (and for the ssh provider), and its reverse. It does what cloud-init does
 * with the cloud-config form, in the same order: write the files, install the packages, run the
 * commands. Reading accepts only the statements written here.
 */
import { gunzipSync } from 'node:zlib';
import { CodedError } from '../../errors.js';
import { gzipStable } from './gzip-stable.js';
import type { ExitNodePlan, FileEncoding, PlannedFile } from './exit-node-plan.js';

export const SCRIPT_HEADER = '#!/bin/bash';

/** Writes one file atomically: parents 0755 (as cloud-init makes them), the file never wider than its mode. */
const PUT_FILE = [
  'put_file() { # PATH OWNER MODE ENCODING; the content comes on stdin',
  '  mkdir -p -- "$(dirname -- "$1")"',
  '  local tmp',
  '  tmp=$(mktemp -- "$1.XXXXXX")',
  '  case "$4" in',
  '    gz+b64) base64 -d | gunzip -c >"$tmp" ;;',
  '    b64) base64 -d >"$tmp" ;;',
  '    text) cat >"$tmp" ;;',
  '    *) echo "put_file: unknown encoding $4" >&2; exit 1 ;;',
  '  esac',
  '  chown -- "$2" "$tmp"',
  '  chmod -- "$3" "$tmp"',
  '  mv -f -- "$tmp" "$1"',
  '}',
];

// A cloud image may still be running its own first apt job; wait for the lock rather than fail.
const APT = 'apt-get -o DPkg::Lock::Timeout=300';
const NO_OPS = new Set(['set -euo pipefail', 'umask 022', 'export DEBIAN_FRONTEND=noninteractive', `${APT} update -q`]);
const INSTALL = `${APT} install -y -q `;

/** Renders the plan as a bash script. */
export function writeBootScript(plan: ExitNodePlan, comment: string[]): string {
  const out = [SCRIPT_HEADER, ...comment.map((c) => `# ${c}`.trimEnd()), 'set -euo pipefail', 'umask 022', ...PUT_FILE, ''];
  for (const f of plan.files) {
    const encoding: FileEncoding = f.encoding === 'text' && !f.content.toString('utf8').endsWith('\n') ? 'b64' : f.encoding;
    const body = encoding === 'text' ? f.content.toString('utf8').slice(0, -1) : encodeBase64(f.content, encoding);
    let delimiter = 'INLETS_EOF';
    while (body.split('\n').includes(delimiter)) delimiter += '_';
    out.push(`put_file ${[f.path, f.owner, f.permissions, encoding].map(shellWord).join(' ')} <<'${delimiter}'`, body, delimiter);
  }
  out.push('', 'export DEBIAN_FRONTEND=noninteractive', `${APT} update -q`, INSTALL + plan.packages.map(shellWord).join(' '), '');
  for (const argv of plan.commands) out.push(argv.map(shellWord).join(' '));
  return out.join('\n') + '\n';
}

function encodeBase64(content: Buffer, encoding: FileEncoding): string {
  const data = encoding === 'gz+b64' ? gzipStable(content) : content;
  return data.toString('base64');
}

/** A word for bash: plain when safe, else single-quoted (a quote inside is refused). */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  if (word.includes("'")) throw new CodedError('USERDATA_INVALID', `a single quote cannot go into the boot script: ${JSON.stringify(word)}`);
  return `'${word}'`;
}

function unsupported(line: number, why: string): never {
  throw new CodedError('USERDATA_UNSUPPORTED', `boot script line ${line + 1}: ${why} (inletsctl's interpreter knows only what its templates write)`);
}

/** Splits a line into words: plain words and single-quoted ones, one space apart; nothing else. */
function words(line: string, at: number): string[] {
  const out: string[] = [];
  const re = /([A-Za-z0-9_@%+=:,./-]+|'[^']*')( |$)/y;
  while (re.lastIndex < line.length) {
    const m = re.exec(line);
    if (!m) unsupported(at, `not a plain command${commandName(line)}`);
    out.push(m[1].startsWith("'") ? m[1].slice(1, -1) : m[1]);
  }
  return out;
}

/** The first word when it looks like a command name (never a line's other text: it may be a secret). */
function commandName(line: string): string {
  const first = /^[a-z][\w.-]{0,30}(?= |$)/.exec(line);
  return first ? ` (${first[0]} …)` : '';
}

/** Reads a boot script written by {@link writeBootScript} back into a plan. */
export function readBootScript(text: string): ExitNodePlan {
  const lines = text.replace(/\n$/, '').split('\n');
  if (lines[0] !== SCRIPT_HEADER) unsupported(0, `the script does not start with "${SCRIPT_HEADER}"`);
  const plan: ExitNodePlan = { packages: [], files: [], commands: [] };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === '' || line.startsWith('#') || NO_OPS.has(line)) continue;
    if (line === PUT_FILE[0]) {
      for (let k = 1; k < PUT_FILE.length; k++) if (lines[i + k] !== PUT_FILE[k]) unsupported(i + k, 'put_file is not the function inletsctl writes');
      i += PUT_FILE.length - 1;
      continue;
    }
    const put = /^put_file (.*) <<'(\w+)'$/.exec(line);
    if (put) {
      const end = lines.indexOf(put[2], i + 1);
      if (end < 0) unsupported(i, `no end of here-document ${put[2]}`);
      plan.files.push(readPutFile(words(put[1], i), lines.slice(i + 1, end), i));
      i = end;
      continue;
    }
    if (line.startsWith(INSTALL)) {
      plan.packages.push(...words(line.slice(INSTALL.length), i));
      continue;
    }
    const argv = words(line, i);
    if (argv.length === 0) unsupported(i, 'empty command');
    plan.commands.push(argv);
  }
  return plan;
}

function readPutFile(args: string[], body: string[], at: number): PlannedFile {
  if (args.length !== 4) unsupported(at, 'put_file takes PATH OWNER MODE ENCODING');
  const [path, owner, permissions, encoding] = args;
  let content: Buffer;
  if (encoding === 'text') content = Buffer.from(body.join('\n') + '\n', 'utf8');
  else if (encoding === 'b64' || encoding === 'gz+b64') {
    const data = Buffer.from(body.join(''), 'base64');
    try {
      content = encoding === 'gz+b64' ? gunzipSync(data) : data;
    } catch {
      unsupported(at, `${path}: content is not gzip data`);
    }
  } else unsupported(at, `unknown encoding "${encoding}"`);
  return { path, owner, permissions, encoding, content };
}
