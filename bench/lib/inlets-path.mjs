// Our tunnel: `inlets tcp server` and `inlets tcp client` from the built bundle, as subprocesses on
// 127.0.0.1, TLS on with the server's self-signed key trusted by its pin. The token travels in the
// INLETS_TOKEN environment variable only, never in argv. `via` may put something (the WAN delay
// relay) between the client and the server's control port. INLETS_BENCH_NODE_ARGS (space-separated,
// default none) adds Node options to both tunnel processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, waitForOutput, killEntry, freePorts } from './procs.mjs';

const NODE_ARGS = (process.env.INLETS_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

/**
 * Starts the inlets server, reads its pin, then starts the client advertising every forward.
 * `via(controlPort)` resolves with the port the client connects to (default: the control port);
 * `nodeArgs` go to both processes before the bundle (default: INLETS_BENCH_NODE_ARGS).
 * @param {{ bundle: string, dir: string, forwards: Array<{ publicPort: number, upstreamPort: number }>, via?: (port: number) => Promise<number>, nodeArgs?: string[] }} opts
 */
export async function startInletsPath({ bundle, dir, forwards, via = async (port) => port, nodeArgs = NODE_ARGS }) {
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const env = { ...process.env, INLETS_TOKEN: randomBytes(32).toString('hex') };
  const [controlPort] = await freePorts(1);

  const server = startProcess('inlets server', process.execPath, [
    ...nodeArgs, bundle, 'tcp', 'server',
    '--control-addr', '127.0.0.1',
    '--control-port', String(controlPort),
    '--data-addr', '127.0.0.1',
    '--token-env', 'INLETS_TOKEN',
    '--state-dir', stateDir,
  ], { env });
  // The first start generates the key pair, which can take a moment on a loaded machine.
  const [, pin] = await waitForOutput(server, /TLS public key pin:\s*(sha256:[0-9a-fA-F]{64})/, 30000, 'TLS pin line');

  const connectPort = await via(controlPort);
  const upstreamArgs = forwards.flatMap(({ publicPort, upstreamPort }) => ['--upstream', `${publicPort}=127.0.0.1:${upstreamPort}`]);
  const client = startProcess('inlets client', process.execPath, [
    ...nodeArgs, bundle, 'tcp', 'client',
    '--url', `wss://127.0.0.1:${connectPort}`,
    '--token-env', 'INLETS_TOKEN',
    '--tls-pin', pin,
    ...upstreamArgs,
  ], { env });

  return {
    name: 'inlets',
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
