/**
 * The npm registry a user has configured, and the credentials npm would send to it, read the way
 * npm reads them: environment (`npm_config_registry`), then the project's `.npmrc`, the user's
 * `~/.npmrc` (or `npm_config_userconfig`), the global `$PREFIX/etc/npmrc`, then npm's default.
 * We parse the files ourselves instead of spawning `npm config get registry`: it is faster, works
 * without npm on PATH, and lets us say which file the value came from.
 *
 * Credentials are kept inside {@link NpmConfig.authHeaderFor}; nothing here returns or prints them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** npm's built-in default registry. */
export const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

export interface NpmConfig {
  /** The registry to use, always ending in `/`. */
  registry: string;
  /** Where {@link registry} came from, for the user: `--registry`, `~/.npmrc`, `npm's default`… */
  source: string;
  /** The `Authorization` header value npm would send to `url`, or undefined. Never log it. */
  authHeaderFor(url: string): string | undefined;
}

export interface NpmConfigOptions {
  /** Package name; a scoped name honours `@scope:registry`. */
  packageName: string;
  /** `--registry` from the command line; wins over everything. */
  registryFlag?: string;
  /** Defaults: process.env, process.cwd(), os.homedir(). Tests pass their own. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
}

interface Layer {
  source: string;
  values: Map<string, string>;
}

/** Reads the configuration layers, highest precedence first, and picks the registry. */
export function readNpmConfig(opts: NpmConfigOptions): NpmConfig {
  const env = opts.env ?? process.env;
  const home = opts.home ?? homedir();
  const layers = loadLayers(env, opts.cwd ?? process.cwd(), home);
  const lookup = (key: string): { value: string; source: string } | undefined => {
    for (const layer of layers) {
      const value = layer.values.get(key);
      if (value !== undefined && value !== '') return { value, source: layer.source };
    }
    return undefined;
  };

  const scope = opts.packageName.startsWith('@') ? opts.packageName.split('/')[0] : undefined;
  let chosen: { value: string; source: string };
  if (opts.registryFlag) chosen = { value: opts.registryFlag, source: '--registry' };
  else {
    const scoped = scope ? lookup(`${scope}:registry`) : undefined;
    chosen = scoped ?? lookup('registry') ?? { value: DEFAULT_REGISTRY, source: "npm's default" };
  }
  const registry = chosen.value.endsWith('/') ? chosen.value : `${chosen.value}/`;

  return {
    registry,
    source: chosen.source.replace(home, '~'),
    authHeaderFor: (url) => authHeader(url, lookup),
  };
}

/**
 * npm keys credentials by "nerf dart": `//host[:port]/path/:_authToken`. The longest key that is a
 * prefix of the URL's `//host/path` wins, so a token is only ever sent to the registry it was
 * issued for (also when a packument points its tarballs at another host).
 */
function authHeader(url: string, lookup: (key: string) => { value: string } | undefined): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const defaultPort = parsed.protocol === 'https:' ? '443' : '80';
  const hostPort = parsed.port && parsed.port !== defaultPort ? `${parsed.hostname}:${parsed.port}` : parsed.hostname;
  let path = parsed.pathname;
  for (;;) {
    const base = `//${hostPort}${path.endsWith('/') ? path : `${path}/`}`;
    const token = lookup(`${base}:_authToken`)?.value;
    if (token) return `Bearer ${token}`;
    const basic = lookup(`${base}:_auth`)?.value;
    if (basic) return `Basic ${basic}`;
    const user = lookup(`${base}:username`)?.value;
    const password = lookup(`${base}:_password`)?.value;
    if (user && password) return `Basic ${Buffer.from(`${user}:${Buffer.from(password, 'base64').toString()}`).toString('base64')}`;
    if (path === '/' || path === '') return undefined;
    path = path.endsWith('/') ? path.slice(0, -1) : path;
    path = path.slice(0, path.lastIndexOf('/') + 1);
  }
}

function loadLayers(env: NodeJS.ProcessEnv, cwd: string, home: string): Layer[] {
  const layers: Layer[] = [];
  const fromEnv = new Map<string, string>();
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || !/^npm_config_/i.test(k)) continue;
    // npm maps npm_config_foo_bar to foo-bar; we only need a few keys, so map both spellings.
    const key = k.slice('npm_config_'.length).toLowerCase();
    fromEnv.set(key, v);
    fromEnv.set(key.replace(/_/g, '-'), v);
  }
  layers.push({ source: 'the npm_config_registry environment variable', values: fromEnv });

  const project = findProjectNpmrc(cwd);
  if (project) pushFile(layers, project, env);
  const userConfig = fromEnv.get('userconfig') ?? join(home, '.npmrc');
  pushFile(layers, resolve(cwd, userConfig), env);
  const prefix = fromEnv.get('prefix') ?? dirname(dirname(process.execPath));
  pushFile(layers, fromEnv.get('globalconfig') ?? join(prefix, 'etc', 'npmrc'), env);
  return layers;
}

/** npm's project config: `.npmrc` beside the nearest package.json or node_modules above `cwd`. */
function findProjectNpmrc(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (let i = 0; i < 64; i++) {
    if (existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'node_modules'))) {
      return join(dir, '.npmrc');
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return undefined;
}

function pushFile(layers: Layer[], file: string, env: NodeJS.ProcessEnv): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return; // a missing or unreadable file is simply not a layer, as in npm
  }
  layers.push({ source: file, values: parseNpmrc(text, env) });
}

/** Parses npmrc's ini dialect: `key = value`, `;`/`#` comments, quotes, `${VAR}` expansion. */
export function parseNpmrc(text: string, env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const values = new Map<string, string>();
  const expand = (s: string) => s.replace(/(\\*)\$\{([^}]+)\}/g, (all, slashes: string, name: string) => (slashes.length % 2 ? all.slice(1) : slashes + (env[name] ?? '')));
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith(';') || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = expand(line.slice(0, eq).trim());
    let value = line.slice(eq + 1).trim();
    if (/^".*"$/.test(value) || /^'.*'$/.test(value)) value = value.slice(1, -1);
    values.set(key, expand(value));
  }
  return values;
}
