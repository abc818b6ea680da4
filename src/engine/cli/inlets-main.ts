/**
 * The `inlets` program (bundled to dist/inlets.mjs): `inlets tcp server|client`, `inlets status`,
 * `inlets version`. Usage errors exit 2, other errors 1, each as one `inlets: <message>` line.
 */
import { CodedError, UsageError } from '../../errors.js';
import { ENGINE_VERSION } from '../version.js';
import { clientCommand } from './client-command.js';
import { serverCommand } from './server-command.js';
import { statusCommand } from './status-command.js';

const HELP = `Usage: inlets COMMAND [flags]

  inlets tcp server     run the tunnel server (on the exit node)
  inlets tcp client     run the tunnel client (next to your services)
  inlets status         show a server's clients and ports
  inlets version        print the version

Run "inlets COMMAND --help" for the flags of each command.
`;

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    let seen = false;
    const on = (sig: string) => {
      if (seen) process.exit(130);
      seen = true;
      resolve(sig);
    };
    process.on('SIGINT', on).on('SIGTERM', on);
  });
}

async function run(argv: string[]): Promise<void> {
  const [first, second, ...rest] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    process.stdout.write(HELP);
    if (first === undefined) process.exitCode = 2;
    return;
  }
  if (first === 'version' || first === '--version') return void process.stdout.write(`inlets ${ENGINE_VERSION}\n`);
  if (first === 'status') return statusCommand(argv.slice(1));
  if (first === 'tcp' || first === 'http') {
    if (second === 'server' || second === 'client') {
      if (first === 'http') throw new UsageError(`"inlets http ${second}" is not implemented in this version; use "inlets tcp ${second}"`, 'NOT_IMPLEMENTED');
      return (second === 'server' ? serverCommand : clientCommand)(rest, stopSignal());
    }
    if (second === '--help' || second === '-h') return void process.stdout.write(`Usage: inlets ${first} server|client [flags]\n`);
    throw new UsageError(`inlets ${first}: expected "server" or "client"${second ? `, not "${second}"` : ''}`);
  }
  throw new UsageError(`unknown command "${first}"; run "inlets --help"`);
}

run(process.argv.slice(2)).then(
  () => process.exit(),
  (err: unknown) => {
    const e = err as Error;
    process.stderr.write(`inlets: ${e instanceof CodedError || !e.stack ? e.message : e.stack}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
