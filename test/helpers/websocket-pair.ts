/**
 * A real TLS websocket pair on 127.0.0.1 built from our own accept and dial: `a` is the server
 * side (upgradeToWebSocket on an https server), `b` the client side (dialTunnel, masked frames),
 * matching the mux suite's convention (a carries the server session, b the client session).
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { generateSelfSigned } from '../../src/engine/tls/self-signed.js';
import { upgradeToWebSocket } from '../../src/engine/transport/websocket-accept.js';
import { dialTunnel } from '../../src/engine/transport/websocket-dial.js';
import type { WebSocketDuplex } from '../../src/engine/transport/websocket-duplex.js';

export interface WebSocketPair {
  a: WebSocketDuplex;
  b: WebSocketDuplex;
  close(): Promise<void>;
}

let identity: ReturnType<typeof generateSelfSigned> | undefined;

/** Starts an https server on an ephemeral port, dials it once, and returns both ends. */
export async function websocketPair(): Promise<WebSocketPair> {
  identity ??= generateSelfSigned({ ips: ['127.0.0.1'] });
  const server: Server = createServer({ cert: identity.certPem, key: identity.keyPem });
  const accepted = new Promise<WebSocketDuplex>((resolve, reject) => {
    server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      const result = upgradeToWebSocket(req, socket, head, { protocols: ['inlets.v1'] });
      if (result) resolve(result.duplex);
      else reject(new Error('upgrade refused'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const { duplex: b } = await dialTunnel({
    url: `wss://127.0.0.1:${port}`,
    token: 'pair-token',
    clientId: 'pair',
    trust: { pin: identity.pin },
  });
  const a = await accepted;
  return {
    a,
    b,
    async close() {
      a.destroy();
      b.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
