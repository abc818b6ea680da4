/**
 * The exit node's `inlets` (bundled to dist/inlets-server-tcp.mjs, which inletsctl embeds in the
 * user-data, where every byte counts): `inlets tcp server` without the client, the status command,
 * certificate generation and `--generate` (see ServerExtras), plus `version` and `--help`.
 */
import { main } from './program.js';
import { serverCommandWith } from './server-command.js';

main(
  { 'tcp server': serverCommandWith() },
  'Usage: inlets tcp server [flags] (see --help)\n',
);
