/**
 * The inletsctl entry point: the only place where errors become messages and exit codes.
 *   0 success · 2 usage error (bad flag, missing value) · 130 interrupted · 1 anything else.
 * Messages are one line `inletsctl: <message>` plus a hint; stacks only with --debug. With `--json`
 * the same error is also one JSON object on stdout, `{"error":{"code","message","exitCode","hint"}}`
 * plus what the command added (see error-details.ts), so `jq` in a script sees why. Error messages
 * never contain secrets (see src/errors.ts), and nothing here prints an error's properties.
 */
import { hideBin } from 'yargs/helpers';
import { CodedError, UsageError } from '../errors.js';
import { asProviderError } from '../core/poller.js';
import { inletsctlPrefix } from '../core/invocation.js';
import { loadExtraProviders } from '../core/registry.js';
import { buildParser, commandNames } from './parser.js';
import { detailsOf } from './error-details.js';

async function main(argv: string[]): Promise<number> {
  try {
    await loadExtraProviders();
    await buildParser(argv).parseAsync();
    return 0;
  } catch (err) {
    return report(err, argv);
  }
}

function report(err: unknown, argv: string[]): number {
  const debug = argv.includes('--debug');
  const message = err instanceof Error ? err.message : String(err);
  const code = codeOf(err);
  process.stderr.write(`inletsctl: ${message}\n`);
  const hint = hintFor(err, argv);
  if (hint) process.stderr.write(`${hint}\n`);
  if (debug && err instanceof Error && err.stack) {
    process.stderr.write(`${code ? `[${code}] ` : ''}${err.stack}\n`);
    if (err.cause instanceof Error && err.cause.stack) process.stderr.write(`caused by: ${err.cause.stack}\n`);
  }
  const exitCode = err instanceof UsageError ? 2 : code === 'INTERRUPTED' ? 130 : 1;
  if (wantsJson(argv)) {
    const error = { code: code ?? 'ERROR', message, exitCode, ...(hint ? { hint } : {}) };
    process.stdout.write(`${JSON.stringify({ error, ...detailsOf(err) }, null, 2)}\n`);
  }
  return exitCode;
}

/** `--json` (or `--json=true`) before a `--` and not turned off again later. */
function wantsJson(argv: string[]): boolean {
  let json = false;
  for (const a of argv) {
    if (a === '--') break;
    if (a === '--json' || a === '--json=true') json = true;
    if (a === '--no-json' || a === '--json=false') json = false;
  }
  return json;
}

/** Usage errors about flags and arguments, where `--help` is the right hint (others say what to do). */
const FLAG_PROBLEMS = new Set([
  'USAGE',
  'BAD_NAME',
  'BAD_DURATION',
  'BAD_PORT',
  'BAD_ENV',
  'EMPTY_TOKEN',
  'NOT_IMPLEMENTED',
  'MISSING_VALUES',
  'CONFIRMATION_REQUIRED',
  'UNKNOWN_PROVIDER',
  'CREDENTIAL_FILE',
  'NOT_IN_STATE',
]);

/** The error's stable code, also for errors from another copy of src/errors.ts (extra providers). */
function codeOf(err: unknown): string | undefined {
  if (err instanceof CodedError) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function hintFor(err: unknown, argv: string[]): string | undefined {
  const typed = argv.find((a) => !a.startsWith('-'));
  const command = typed && commandNames().includes(typed) ? typed : undefined;
  if (err instanceof UsageError) return FLAG_PROBLEMS.has(err.code) ? `Run: ${inletsctlPrefix()} ${command ? `${command} ` : ''}--help` : undefined;
  const providerError = asProviderError(err);
  if (providerError) {
    if (providerError.code === 'AUTH') return `Check the credentials for ${providerError.provider} (see: inletsctl providers)`;
    if (providerError.retryable) return 'The provider may be busy or unreachable; try again in a minute.';
  }
  // An interruption was the user's own doing: there is nothing more to learn from --debug.
  if (codeOf(err) === 'INTERRUPTED' || codeOf(err) === 'DECLINED') return undefined;
  if (!argv.includes('--debug')) return 'Run again with --debug for details.';
  return undefined;
}

const code = await main(hideBin(process.argv));
// Let stdout drain (a pipe may still hold the JSON result) before ending the process, so that
// nothing a provider or prompt left open can keep the CLI alive.
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
process.exit(code);
