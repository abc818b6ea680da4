/**
 * A tiny reader for the subset of YAML that clouds.yaml files use: nested block mappings by
 * indentation, plain or quoted scalars, and `#` comments. Lists, anchors, flow collections and
 * multi-line scalars are not supported (an entry using them is skipped, never guessed). The
 * `yaml` package is a devDependency only, so the CLI carries this instead.
 *
 * Where the files are: https://docs.openstack.org/openstacksdk/latest/user/config/configuration.html
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** A nested mapping of strings, as read. */
export type YamlMap = { [key: string]: string | YamlMap };

function unquote(raw: string): string {
  const v = raw.trim();
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1).replace(/''/g, "'");
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    return v.slice(1, -1).replace(/\\(["\\/nt])/g, (_m, c: string) => ({ n: '\n', t: '\t' })[c as 'n' | 't'] ?? c);
  }
  return v;
}

/** Drops a trailing comment that is outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i);
  }
  return line;
}

/** Parses the mapping subset described above. */
export function parseSimpleYaml(text: string): YamlMap {
  const root: YamlMap = {};
  const stack: Array<{ indent: number; map: YamlMap }> = [{ indent: -1, map: root }];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = stripComment(rawLine).replace(/\s+$/, '');
    if (!line.trim() || line.trim() === '---') continue;
    const indent = line.length - line.trimStart().length;
    const m = /^(\s*)("[^"]*"|'[^']*'|[^:#'"][^:]*?)\s*:(?:\s+(.*))?$/.exec(line);
    if (!m) continue; // a list item or a continuation line: not in the subset
    while (stack.length > 1 && stack[stack.length - 1].indent >= indent) stack.pop();
    const parent = stack[stack.length - 1].map;
    const key = unquote(m[2]);
    const value = m[3];
    if (value === undefined || value === '') {
      const child: YamlMap = {};
      parent[key] = child;
      stack.push({ indent, map: child });
    } else {
      parent[key] = unquote(value);
    }
  }
  return root;
}

/** The clouds.yaml locations, in the order openstacksdk reads them (the first found wins). */
export function cloudsYamlPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME ?? homedir();
  return [
    ...(env.OS_CLIENT_CONFIG_FILE ? [env.OS_CLIENT_CONFIG_FILE] : []),
    join(process.cwd(), 'clouds.yaml'),
    join(home, '.config', 'openstack', 'clouds.yaml'),
    '/etc/openstack/clouds.yaml',
  ];
}

/**
 * The entry `cloud` of the first clouds.yaml found, or undefined when no file has it.
 * @returns the entry as a nested mapping (`auth`, `region_name`, `interface`…)
 */
export function readCloudEntry(cloud: string, env: NodeJS.ProcessEnv = process.env): YamlMap | undefined {
  for (const path of cloudsYamlPaths(env)) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    const clouds = parseSimpleYaml(text).clouds;
    if (typeof clouds === 'object' && typeof clouds[cloud] === 'object') return clouds[cloud] as YamlMap;
  }
  return undefined;
}
