/**
 * How to write a command so that it runs when pasted: `inletsctl …` and `inlets …` when those
 * names on PATH are this very package's programs, else the way this process was started
 * (`node /path/to/bin/inletsctl.mjs …`, `node /path/to/dist/inlets.mjs …`). A different
 * `inletsctl` on PATH (the Go one, say) never gets our commands.
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { packageRoot } from './engine-bundle.js';

/** Where to look and what this process is; replaceable in tests. */
export interface InvocationEnv {
  path?: string;
  execPath: string;
  /** process.argv[1]: the script node was started with. */
  script?: string;
  root: string;
}

function currentEnv(): InvocationEnv {
  return { path: process.env.PATH, execPath: process.execPath, script: process.argv[1], root: packageRoot() };
}

/** The real path of `name` found first on `path`, or undefined. */
export function whichReal(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return realpathSync(candidate);
    } catch {
      // not here
    }
  }
  return undefined;
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** A word for a POSIX shell: quoted only when it needs to be. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `node` when PATH's node is this one, else the absolute path of this Node. */
function nodeWord(env: InvocationEnv): string {
  return whichReal('node', env.path) === real(env.execPath) ? 'node' : shellWord(env.execPath);
}

/** The words that start this inletsctl: `inletsctl`, or `node /abs/bin/inletsctl.mjs`. */
export function inletsctlPrefix(env: InvocationEnv = currentEnv()): string {
  // argv[1] when it is this package's script (a test runner's is not), else the package's own bin.
  const own = real(join(env.root, 'bin', 'inletsctl.mjs'));
  const started = env.script ? real(env.script) : undefined;
  const script = started && started.startsWith(real(env.root)) ? started : own;
  if (whichReal('inletsctl', env.path) === script) return 'inletsctl';
  return `${nodeWord(env)} ${shellWord(script)}`;
}

/** The words that start this package's engine: `inlets`, or `node /abs/dist/inlets.mjs`. */
export function inletsPrefix(env: InvocationEnv = currentEnv()): string {
  const engine = real(join(env.root, 'dist', 'inlets.mjs'));
  if (whichReal('inlets', env.path) === engine) return 'inlets';
  return `${nodeWord(env)} ${shellWord(engine)}`;
}
