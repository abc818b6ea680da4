/** Output flags shared by commands that print a result. */
import type { Argv } from 'yargs';

/** Adds `--json`: one JSON object on stdout instead of text; progress still goes to stderr. */
export function withJsonOption(y: Argv): Argv {
  return y.option('json', {
    type: 'boolean',
    default: false,
    describe: 'Print one JSON object on stdout (for scripts); progress goes to stderr',
    group: 'Output:',
  });
}
