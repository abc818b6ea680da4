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
import { testCommand } from './commands/test.js';
import { versionCommand } from './commands/version.js';

/** The first word of each command and its aliases: `create`, `delete`, `ls`… */
export function commandNames(commands: CommandModule[] = allCommands()): string[] {
  return commands.flatMap((c) => [String(Array.isArray(c.command) ? c.command[0] : c.command).split(' ')[0], ...[c.aliases ?? []].flat()]);
}

/** Every command, in the order `--help` lists them. */
export function allCommands(): CommandModule[] {
  return [createCommand, deleteCommand, listCommand, testCommand, downloadCommand, providersCommand, versionCommand] as CommandModule[];
}

/**
 * Builds the parser. Parse failures and handler errors are thrown (never printed or exited here):
 * yargs' own complaints become {@link UsageError}, so only the entry point decides what to print.
 */
export function buildParser(args: string[], commands: CommandModule[] = allCommands()): Argv {
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
      // recommendCommands says only "Did you mean create?"; name what was typed.
      const typed = args.find((a) => !a.startsWith('-'));
      throw new UsageError(message.startsWith('Did you mean') && typed ? `unknown command "${typed}". ${message}` : message);
    });
  for (const command of commands) y = y.command(command);
  return y.completion('completion', 'Print a shell completion script: inletsctl completion >> ~/.bashrc');
}
