/**
 * Reads the systemd unit our templates write, for the local booter: the directives that change
 * what runs (ExecStart, EnvironmentFile, Environment, LoadCredential, StateDirectory) and a list of
 * those that only harden or restart it, which a local process cannot imitate and may ignore.
 * Any other directive, and any ExecStart syntax beyond plain words and `%d`, is refused.
 */
import { CodedError } from '../errors.js';

export interface ServiceUnit {
  /** ExecStart split into words, specifiers not yet expanded. */
  execStart: string[];
  environmentFiles: string[];
  environment: Record<string, string>;
  /** LoadCredential=ID:PATH pairs. */
  credentials: { id: string; path: string }[];
  /** StateDirectory= names (relative to /var/lib). */
  stateDirectories: string[];
}

/** Directives with no effect on what the local copy runs (restart policy, sandboxing, ordering). */
const IGNORED: Record<string, Set<string>> = {
  Unit: new Set(['Description', 'Documentation', 'After', 'Wants', 'Requires', 'Before']),
  Service: new Set([
    'Type',
    'Restart',
    'RestartSec',
    'LimitNOFILE',
    'DynamicUser',
    'AmbientCapabilities',
    'CapabilityBoundingSet',
    'NoNewPrivileges',
    'ProtectSystem',
    'ProtectHome',
    'PrivateTmp',
    'PrivateDevices',
  ]),
  Install: new Set(['WantedBy']),
};

const USED = new Set(['ExecStart', 'EnvironmentFile', 'Environment', 'LoadCredential', 'StateDirectory']);

function unsupported(unitName: string, why: string): never {
  throw new CodedError('USERDATA_UNSUPPORTED', `${unitName}: ${why} (inletsctl's interpreter knows only what its templates write)`);
}

/** Parses the unit text; `unitName` is used in messages. */
export function readServiceUnit(text: string, unitName: string): ServiceUnit {
  const unit: ServiceUnit = { execStart: [], environmentFiles: [], environment: {}, credentials: [], stateDirectories: [] };
  let section = '';
  let execStarts = 0;
  for (const [n, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.endsWith('\\')) unsupported(unitName, `line ${n + 1}: continued lines`);
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      if (!IGNORED[header[1]]) unsupported(unitName, `section [${header[1]}]`);
      section = header[1];
      continue;
    }
    const m = /^(\w+)=(.*)$/.exec(line);
    if (!m || !section) unsupported(unitName, `line ${n + 1} is not Key=Value in a section`);
    const [, key, value] = m;
    if (IGNORED[section].has(key)) continue;
    if (section !== 'Service' || !USED.has(key)) unsupported(unitName, `directive ${key}= in [${section}]`);
    if (key === 'ExecStart') {
      if (++execStarts > 1) unsupported(unitName, 'more than one ExecStart=');
      if (!/^[A-Za-z0-9_@%+=:,./-]+( [A-Za-z0-9_@%+=:,./-]+)*$/.test(value)) {
        unsupported(unitName, 'ExecStart= with quotes, variables or prefixes');
      }
      unit.execStart = value.split(' ');
    } else if (key === 'EnvironmentFile') {
      unit.environmentFiles.push(value);
    } else if (key === 'Environment') {
      for (const pair of value.split(' ')) {
        const kv = /^(\w+)=([^"'\\$%]*)$/.exec(pair);
        if (!kv) unsupported(unitName, `Environment=${value}`);
        unit.environment[kv[1]] = kv[2];
      }
    } else if (key === 'LoadCredential') {
      const c = /^([\w.-]+):(\/[^\s]+)$/.exec(value);
      if (!c) unsupported(unitName, `LoadCredential=${value}`);
      unit.credentials.push({ id: c[1], path: c[2] });
    } else {
      if (!/^[\w.-]+$/.test(value)) unsupported(unitName, `StateDirectory=${value}`);
      unit.stateDirectories.push(value);
    }
  }
  if (unit.execStart.length === 0) unsupported(unitName, 'no ExecStart=');
  return unit;
}

/**
 * Reads an EnvironmentFile: `KEY=VALUE` lines, comments and blank lines; quoting is refused
 * (our templates never quote).
 */
export function readEnvironmentFile(text: string, where: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^([A-Za-z_]\w*)=([^"'\\\s]*)$/.exec(line);
    if (!m) throw new CodedError('USERDATA_UNSUPPORTED', `${where}: a line that is not KEY=VALUE (quoting is not supported)`);
    env[m[1]] = m[2];
  }
  return env;
}
