/**
 * The exit node's `inlets` (bundled to dist/inlets-server.mjs, which inletsctl embeds in the
 * user-data): the full program without the client and status commands, to fit the 16 KiB budget.
 */
import { main } from './program.js';
import { serverCommand } from './server-command.js';

main(
  { 'tcp server': serverCommand },
  `Usage: inlets tcp server [flags]   (the exit node's build: server only)

Run "inlets tcp server --help" for its flags; "inlets version" prints the version.
`,
);
