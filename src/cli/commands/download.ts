/**
 * `inletsctl download`: install the standalone engine as `inlets`. The handler loads the
 * implementation (src/core/download/) only when run, so `--help` stays fast.
 */
import { dirname } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

export interface DownloadArgs {
  'download-to': string;
  version?: string;
  registry?: string;
  json: boolean;
}

export const downloadCommand: CommandModule<object, DownloadArgs> = {
  command: 'download',
  describe: 'Install the inlets tunnel engine as an executable',
  builder: (yargs: Argv) =>
    yargs
      // yargs' built-in --version (print inletsctl's version) would swallow ours.
      .version(false)
      .option('download-to', {
        type: 'string',
        default: '/usr/local/bin',
        describe: 'Directory to install `inlets` into (created if missing)',
      })
      .option('version', {
        type: 'string',
        describe: "Fetch this version (or dist-tag) of inletsctl's npm package instead of the copy shipped with this inletsctl",
      })
      .option('registry', {
        type: 'string',
        describe: "npm registry URL to fetch from (default: npm's configured registry); alone it means --version latest",
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object describing what was installed' })
      .example('$0 download', 'Install the engine shipped with this inletsctl into /usr/local/bin')
      .example('$0 download --download-to ~/.local/bin', 'Install without sudo into a directory you own')
      .example('$0 download --version 0.1.0', "Fetch version 0.1.0 from npm's configured registry, verify its integrity, install it")
      .example('$0 download --version latest --registry http://127.0.0.1:4873', 'Use another registry (for example a local mirror)') as unknown as Argv<DownloadArgs>,
  handler: async (argv: ArgumentsCamelCase<DownloadArgs>) => {
    const { downloadEngine } = await import('../../core/download/download-engine.js');
    const json = argv.json;
    const result = await downloadEngine({
      downloadTo: argv['download-to'],
      // `--registry URL` alone: the newest version there (what someone naming a mirror wants).
      version: argv.version ?? (argv.registry ? 'latest' : undefined),
      registry: argv.registry,
      // Progress goes to stderr so that stdout holds only the result (or the JSON object).
      log: (line) => process.stderr.write(`${line}\n`),
    });
    if (json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    const from = result.source === 'shipped' ? 'shipped with this inletsctl' : `from ${result.registry}`;
    process.stdout.write(`Installed inlets ${result.version} (${from}) to ${result.path}\n`);
    if (!result.onPath) process.stdout.write(`Note: ${dirname(result.path)} is not on your PATH; run it as ${result.path}\n`);
  },
};
