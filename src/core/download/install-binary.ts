/**
 * Puts an executable into a directory the way a package manager should: check the directory is
 * writable before any download, write a temporary file beside the target with mode 0755, then
 * rename it over the target, so a running `inlets` is never replaced by half a file.
 */
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { CodedError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic-file.js';

/** `~` and `~/x` as a shell would expand them; the flag value may arrive unexpanded when quoted. */
export function expandHome(dir: string): string {
  if (dir === '~') return homedir();
  if (dir.startsWith('~/')) return join(homedir(), dir.slice(2));
  return resolve(dir);
}

function notWritable(dir: string, reason: string, cause?: unknown): CodedError {
  return new CodedError(
    'DOWNLOAD_NOT_WRITABLE',
    `cannot write to ${dir} (${reason}). Run the command with sudo, or install into a directory you own: inletsctl download --download-to ~/.local/bin`,
    { cause },
  );
}

/**
 * Throws CodedError `DOWNLOAD_NOT_WRITABLE` unless `dir` is (or can be created as) a writable
 * directory. Creates a missing directory (mode 0755), as `~/.local/bin` often does not exist yet.
 */
export async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await makeDirs(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw notWritable(dir, 'it is not a directory', err);
    throw notWritable(dir, describeErrno(code), err);
  }
  const info = await stat(dir);
  if (!info.isDirectory()) throw notWritable(dir, 'it is not a directory');
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw notWritable(dir, describeErrno((err as NodeJS.ErrnoException).code), err);
  }
}

/**
 * `mkdir -p`, one level at a time: Node's `mkdir({ recursive: true })` never returns for a path
 * under /proc (it retries the ENOENT for ever), so `--download-to /proc/nope` hung.
 */
async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      await stat(d);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(d) === d) throw err;
      missing.unshift(d);
    }
  }
  for (const d of missing) {
    try {
      await mkdir(d, { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // made meanwhile by someone else
    }
  }
}

function describeErrno(code: string | undefined): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    default:
      return code ?? 'unknown error';
  }
}

/** Writes `data` to `dir/name` atomically with mode 0755; returns the path. */
export async function installExecutable(dir: string, name: string, data: Uint8Array): Promise<string> {
  await ensureWritableDir(dir);
  const path = join(dir, name);
  try {
    await writeFileAtomic(path, data, 0o755);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw notWritable(dir, `${path} is a directory`, err);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw notWritable(dir, describeErrno(code), err);
    throw err;
  }
  return path;
}

/** True when `dir` is one of the PATH entries, so the user can type `inlets` right away. */
export function isOnPath(dir: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .some((entry) => resolve(entry) === resolve(dir));
}
