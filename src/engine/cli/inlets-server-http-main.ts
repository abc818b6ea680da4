/**
 * The exit node's `inlets` in HTTPS mode (bundled to dist/inlets-server-http.mjs, embedded in the
 * user-data like the tcp one): `inlets http server` with Let's Encrypt, and nothing else.
 */
import { httpMode } from './http-mode.js';
import { main } from './program.js';
import { serverCommandWith } from './server-command.js';

main(
  { 'http server': serverCommandWith(undefined, httpMode) },
  'Usage: inlets http server [flags] (see --help)\n',
);
