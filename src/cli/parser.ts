/**
 * The yargs parser of inletsctl, built from command modules. Tests build it with the real command
 * objects and their handlers swapped, so parsing is tested without running anything.
 */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { UsageError } from '../errors.js';
import { createCommand } from './commands/create.js';
import { deleteCommand } from './commands/delete.js';
import { downloadCommand } from './commands/download.js';
import { listCommand } from './commands/list.js';
import { providersCommand } from './commands/providers.js';
import { pruneCommand } from './commands/prune.js';
import { testCommand } from './commands/test.js';
import { versionCommand } from './commands/version.js';

/** The first word of each command and its aliases: `create`, `delete`, `ls`… */
export function commandNames(commands: CommandModule[] = allCommands()): string[] {
  return commands.flatMap((c) => [String(Array.isArray(c.command) ? c.command[0] : c.command).split(' ')[0], ...[c.aliases ?? []].flat()]);
}

/** Commands that are not in `--help` (used by the completion scripts). */
const INTERNAL_COMMANDS = ['completion', '__complete'];

/**
 * `--timeout -5s` would be read by yargs as the short flags -5 and -s ("Unknown arguments: 5, s");
 * joined as `--timeout=-5s`, the flag's own check names the flag and the value.
 */
export function joinNegativeValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1];
    if (/^--[a-z][a-z0-9-]*$/.test(a) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** yargs lists `inlets-version, inletsVersion` for one unknown flag: keep the spelling typed. */
function withoutCamelCaseTwins(message: string): string {
  const m = /^Unknown arguments?: (.*)$/.exec(message);
  if (!m) return message;
  const names = m[1].split(', ');
  const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const kept = names.filter((n) => !names.some((other) => other !== n && other.includes('-') && camel(other) === n));
  return `Unknown argument${kept.length > 1 ? 's' : ''}: ${kept.join(', ')}`;
}

/** Every command, in the order `--help` lists them. */
export function allCommands(): CommandModule[] {
  return [createCommand, deleteCommand, listCommand, pruneCommand, testCommand, downloadCommand, providersCommand, versionCommand] as CommandModule[];
}

/**
 * Builds the parser. Parse failures and handler errors are thrown (never printed or exited here):
 * yargs' own complaints become {@link UsageError}, so only the entry point decides what to print.
 */
export function buildParser(argv: string[], commands: CommandModule[] = allCommands()): Argv {
  const args = joinNegativeValues(argv);
  const known = commandNames(commands);
  let y = yargs(args)
    .scriptName('inletsctl')
    .usage('$0 <command> [options]\n\nCreate exit servers for inlets tunnels on your own cloud account, or on this machine.')
    .version(false) // `inletsctl version` instead; `download --version X` is a different flag
    .option('debug', { type: 'boolean', default: false, describe: 'Print stack traces of errors', global: true })
    .strict()
    .demandCommand(1, 'choose a command (see: inletsctl --help)')
    .recommendCommands()
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue('Every command has examples: inletsctl <command> --help')
    .exitProcess(false)
    .fail((message, error) => {
      if (error) throw error;
      // One style for every unknown command: name what was typed, then a suggestion or the list.
      const typed = args.find((a) => !a.startsWith('-'));
      if (typed && !known.includes(typed) && !INTERNAL_COMMANDS.includes(typed)) {
        const suggestion = message.startsWith('Did you mean') ? message : `Commands: ${known.join(', ')}.`;
        throw new UsageError(`unknown command "${typed}". ${suggestion}`);
      }
      throw new UsageError(withoutCamelCaseTwins(message));
    });
  for (const command of commands) y = y.command(command);
  return y.command(completionCommand()).command(completeCommand(commands, known));
}

/** `inletsctl completion [bash|zsh|fish]`: prints the script (see completion.ts); `--help` is help. */
function completionCommand(): CommandModule {
  return {
    command: 'completion [shell]',
    describe: 'Print a shell completion script: inletsctl completion bash >> ~/.bashrc (also zsh, fish)',
    builder: (y: Argv) =>
      y
        .positional('shell', { type: 'string', choices: ['bash', 'zsh', 'fish'], describe: 'Shell (default: from $SHELL, else bash)' })
        .example('$0 completion bash >> ~/.bashrc', 'Complete commands, flags and tunnel names in bash')
        .example('$0 completion fish > ~/.config/fish/completions/inletsctl.fish', 'The same for fish'),
    handler: async (args) => {
      const { completionScript, SHELLS } = await import('./completion.js');
      const fromEnv = (process.env.SHELL ?? '').split('/').pop();
      const shell = (args.shell as string | undefined) ?? (SHELLS.includes(fromEnv as never) ? fromEnv : 'bash');
      process.stdout.write(completionScript(shell as 'bash'));
    },
  };
}

/** `inletsctl __complete -- WORDS…`: candidates for the completion scripts, one per line. */
function completeCommand(commands: CommandModule[], known: string[]): CommandModule {
  return {
    command: '__complete',
    describe: false,
    builder: (y: Argv) => y.strict(false).parserConfiguration({ 'populate--': true, 'unknown-options-as-args': true }),
    handler: async (args) => {
      const { candidates } = await import('./completion.js');
      const words = ((args['--'] as unknown[] | undefined) ?? []).map(String);
      process.stdout.write((await candidates(words, commands, known.filter((n) => n !== 'ls'))).map((c) => `${c}\n`).join(''));
    },
  };
}
