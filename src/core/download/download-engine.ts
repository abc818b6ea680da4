/**
 * `inletsctl download`: installs the standalone engine as an executable `inlets`.
 * - By default, the copy of dist/inlets.mjs shipped in this package (no network).
 * - With a version, that version of this package from the npm registry: packument, tarball,
 *   integrity check of the whole tarball, and only then extraction of dist/inlets.mjs.
 * The target directory is checked before any download, and the file is installed atomically.
 */
import { CodedError, UsageError } from '../../errors.js';
import { verifyIntegrity } from './integrity.js';
import { ensureWritableDir, expandHome, installExecutable, isOnPath } from './install-binary.js';
import { readNpmConfig } from './npm-config.js';
import { ENGINE_IN_PACKAGE, readPackageInfo, readShippedEngine, type PackageInfo } from './package-info.js';
import { fetchTarball, redactUrl, resolveVersion } from './registry-client.js';
import { readFileFromTarball } from './tar-reader.js';

/** The default `--download-to`, as in inletsctl. */
export const DEFAULT_DOWNLOAD_DIR = '/usr/local/bin';

export interface DownloadOptions {
  /** Directory to install into; `~` is expanded. Default {@link DEFAULT_DOWNLOAD_DIR}. */
  downloadTo?: string;
  /** A version or dist-tag of this package to fetch from the registry; unset = the shipped copy. */
  version?: string;
  /** Registry base URL; default: npm's configured registry. Used only with `version`. */
  registry?: string;
  /** File name to install as. Default `inlets`. */
  binaryName?: string;
  /** Progress lines for the user (to stderr in the CLI). Never receives a secret. */
  log?: (line: string) => void;
  /** Per HTTP request, in milliseconds. Default 120 000. */
  timeoutMs?: number;
  /** Overrides for reading npm's configuration and the package (tests). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
  packageInfo?: PackageInfo;
}

export interface DownloadResult {
  /** Absolute path of the installed executable. */
  path: string;
  /** Version of the package the engine came from. */
  version: string;
  source: 'shipped' | 'registry';
  /** The registry used and why it was chosen (registry downloads only). */
  registry?: string;
  registrySource?: string;
  /** Hash algorithm of the verified integrity, and whether the shasum was also checked. */
  integrity?: string;
  shasumChecked?: boolean;
  /** Size of the installed file, in bytes. */
  bytes: number;
  /** Whether the directory is on PATH (so `inlets` works without a full path). */
  onPath: boolean;
}

/** Runs the download; throws CodedError with a `DOWNLOAD_*` code on failure, installing nothing. */
export async function downloadEngine(opts: DownloadOptions = {}): Promise<DownloadResult> {
  const log = opts.log ?? (() => {});
  const dir = expandHome(opts.downloadTo ?? DEFAULT_DOWNLOAD_DIR);
  const name = opts.binaryName ?? 'inlets';
  const pkg = opts.packageInfo ?? readPackageInfo();
  // Fail on an unwritable target before spending time on the network.
  await ensureWritableDir(dir);

  if (!opts.version) {
    if (opts.registry) throw new UsageError('--registry is used only with --version; without it the engine shipped in this package is installed');
    const engine = readShippedEngine(pkg);
    const path = await installExecutable(dir, name, engine);
    return { path, version: pkg.version, source: 'shipped', bytes: engine.length, onPath: isOnPath(dir, opts.env) };
  }

  const config = readNpmConfig({ packageName: pkg.name, registryFlag: opts.registry, env: opts.env, cwd: opts.cwd, home: opts.home });
  const registry = redactUrl(config.registry);
  log(`registry ${registry} (from ${config.source})`);
  const registryOpts = { config, timeoutMs: opts.timeoutMs, userAgent: `${pkg.name}/${pkg.version} node/${process.version}` };
  const info = await resolveVersion(pkg.name, opts.version, registryOpts);
  const what = `${pkg.name}@${info.version}`;
  log(`fetching ${what} from ${redactUrl(info.tarball)}`);
  const tarball = await fetchTarball(info, registryOpts);
  // Verify the whole tarball before reading a single entry from it.
  const verified = verifyIntegrity(tarball, info.integrity, info.shasum, what);
  log(`${what}: ${verified.algorithm} integrity${verified.shasumChecked ? ' and shasum' : ''} verified (${tarball.length} bytes)`);
  const engine = readFileFromTarball(tarball, ENGINE_IN_PACKAGE);
  if (!engine) {
    throw new CodedError('DOWNLOAD_BAD_TARBALL', `${what} does not contain ${ENGINE_IN_PACKAGE}, so it has no standalone engine to install`);
  }
  const path = await installExecutable(dir, name, engine);
  return {
    path,
    version: info.version,
    source: 'registry',
    registry,
    registrySource: config.source,
    integrity: verified.algorithm,
    shasumChecked: verified.shasumChecked,
    bytes: engine.length,
    onPath: isOnPath(dir, opts.env),
  };
}
