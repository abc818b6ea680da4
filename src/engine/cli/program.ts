/**
 * What every `inlets` build shares: the command dispatch, `version`, `--help`, signals and exit
 * codes. Usage errors exit 2, other errors 1, each as one `inlets: <message>` line.
 */
import { CodedError, UsageError } from '../../errors.js';
import { ENGINE_VERSION } from '../version.js';

/** A command: its flags, and a promise that resolves when the process is asked to stop. */
export type Command = (args: string[], stopRequested: Promise<unknown>) => Promise<void>;

/** The commands a build offers, by name: 'tcp server', 'http client', 'status', ... */
export type Commands = Partial<Record<'tcp server' | 'tcp client' | 'http server' | 'http client' | 'status', Command>>;

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

async function run(argv: string[], commands: Commands, help: string): Promise<void> {
  const [first, second, ...rest] = argv;
  const out = (text: string) => void process.stdout.write(text);
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    if (first === undefined) process.exitCode = 2;
    return out(help);
  }
  if (first === 'version' || first === '--version') return out(`inlets ${ENGINE_VERSION}\n`);
  if (first === 'status') return missing(commands.status, 'status')(argv.slice(1), stopSignal());
  if (first === 'tcp' || first === 'http') {
    if (second === 'server' || second === 'client') {
      return missing(commands[`${first} ${second}`], `${first} ${second}`)(rest, stopSignal());
    }
    if (second === '--help' || second === '-h') return out(`Usage: inlets ${first} server|client [flags]\n`);
    throw new UsageError(`inlets ${first}: expected "server" or "client"${second ? `, not "${second}"` : ''}`);
  }
  throw new UsageError(`unknown command "${first}"; run "inlets --help"`);
}

function missing(command: Command | undefined, name: string): Command {
  if (command) return command;
  throw new UsageError(`the exit node's inlets has no "${name}" (inletsctl download gets the full one)`, 'NOT_IMPLEMENTED');
}

/** Runs the program for `process.argv` and exits with its outcome. */
export function main(commands: Commands, help: string): void {
  run(process.argv.slice(2), commands, help).then(
    () => process.exit(),
    (err: unknown) => {
      const e = err as Error;
      process.stderr.write(`inlets: ${e instanceof CodedError || !e.stack ? e.message : e.stack}\n`);
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}
