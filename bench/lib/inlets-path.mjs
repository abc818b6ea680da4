// Our tunnel: `inlets tcp server` + `inlets tcp client`, or `inlets http server` + `inlets http
// client`, from the built bundle, as subprocesses on 127.0.0.1, TLS on the control connection with
// the server's self-signed key trusted by its pin. The token travels in the INLETS_TOKEN environment
// variable only, never in argv. `via` may put something (the WAN delay relay) between the client and
// the server's control port. INLETS_BENCH_NODE_ARGS (space-separated, default none) adds Node
// options to both tunnel processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, waitForOutput, killEntry, freePorts } from './procs.mjs';

const NODE_ARGS = (process.env.INLETS_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

/**
 * Starts `inlets MODE server` with the control plane on 127.0.0.1, reads its pin, then starts
 * `inlets MODE client` against it. `serverArgs` and `clientArgs` are the mode's own flags.
 * @param {{ bundle: string, dir: string, mode: 'tcp'|'http', serverArgs: string[], clientArgs: string[], via: (port: number) => Promise<number>, nodeArgs: string[] }} opts
 */
async function startInlets({ bundle, dir, mode, serverArgs, clientArgs, via, nodeArgs }) {
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const env = { ...process.env, INLETS_TOKEN: randomBytes(32).toString('hex') };
  const [controlPort] = await freePorts(1);
  // TCP mode keeps its original process names ("inlets server", "inlets client") in the results.
  const label = mode === 'tcp' ? 'inlets' : `inlets ${mode}`;

  const server = startProcess(`${label} server`, process.execPath, [
    ...nodeArgs, bundle, mode, 'server',
    '--control-addr', '127.0.0.1',
    '--control-port', String(controlPort),
    '--data-addr', '127.0.0.1',
    '--token-env', 'INLETS_TOKEN',
    '--state-dir', stateDir,
    ...serverArgs,
  ], { env });
  let client = null;
  try {
    // The first start generates the key pair, which can take a moment on a loaded machine.
    const [, pin] = await waitForOutput(server, /TLS public key pin:\s*(sha256:[0-9a-fA-F]{64})/, 30000, 'TLS pin line');
    const connectPort = await via(controlPort);
    client = startProcess(`${label} client`, process.execPath, [
      ...nodeArgs, bundle, mode, 'client',
      '--url', `wss://127.0.0.1:${connectPort}`,
      '--token-env', 'INLETS_TOKEN',
      '--tls-pin', pin,
      ...clientArgs,
    ], { env });
  } catch (err) {
    await killEntry(server);
    throw err;
  }

  return {
    name: label,
    processes: [client, server],
    serverPids: () => [server.child.pid],
    listenerPid: () => server.child.pid,
    clientPids: () => [client.child.pid],
    alive: () => (!client.exited && !server.exited ? null : client.exited ? client : server),
    async stop() {
      await killEntry(client);
      await killEntry(server);
    },
  };
}

/**
 * TCP mode: the server opens every forward's public port, the client carries it to its upstream.
 * `via(controlPort)` resolves with the port the client connects to (default: the control port);
 * `nodeArgs` go to both processes before the bundle (default: INLETS_BENCH_NODE_ARGS).
 * @param {{ bundle: string, dir: string, forwards: Array<{ publicPort: number, upstreamPort: number }>, via?: (port: number) => Promise<number>, nodeArgs?: string[] }} opts
 */
export function startInletsPath({ bundle, dir, forwards, via = async (port) => port, nodeArgs = NODE_ARGS }) {
  const clientArgs = forwards.flatMap(({ publicPort, upstreamPort }) => ['--upstream', `${publicPort}=127.0.0.1:${upstreamPort}`]);
  return startInlets({ bundle, dir, mode: 'tcp', serverArgs: [], clientArgs, via, nodeArgs });
}

/**
 * HTTP mode: plain public HTTP on 127.0.0.1:publicPort (no Let's Encrypt; `tlsPort` is only given so
 * the server never wants 443), every host name routed to the client's bare-URL upstream
 * http://127.0.0.1:upstreamPort.
 * @param {{ bundle: string, dir: string, publicPort: number, tlsPort: number, upstreamPort: number, via?: (port: number) => Promise<number>, nodeArgs?: string[] }} opts
 */
export function startInletsHttpPath({ bundle, dir, publicPort, tlsPort, upstreamPort, via = async (port) => port, nodeArgs = NODE_ARGS }) {
  return startInlets({
    bundle,
    dir,
    mode: 'http',
    serverArgs: ['--port', String(publicPort), '--tls-port', String(tlsPort)],
    clientArgs: ['--upstream', `http://127.0.0.1:${upstreamPort}`],
    via,
    nodeArgs,
  });
}
