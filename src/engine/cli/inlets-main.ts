/**
 * The `inlets` program (bundled to dist/inlets.mjs): `inlets tcp|http server|client`, `inlets status`,
 * `inlets version`.
 */
import { clientCommand, httpClientCommand } from './client-command.js';
import { httpServerCommand } from './http-mode.js';
import { main } from './program.js';
import { serverCommand } from './server-command.js';
import { statusCommand } from './status-command.js';

main(
  { 'tcp server': serverCommand, 'tcp client': clientCommand, 'http server': httpServerCommand, 'http client': httpClientCommand, status: statusCommand },
  `Usage: inlets COMMAND [flags]

  inlets tcp server     run the tunnel server (on the exit node)
  inlets tcp client     run the tunnel client (next to your services)
  inlets http server    the same for HTTP(S), routed by host name, with Let's Encrypt
  inlets http client    serve host names from local HTTP(S) upstreams
  inlets status         show a server's clients and ports
  inlets version        print the version

Run "inlets COMMAND --help" for the flags of each command.
`,
);
