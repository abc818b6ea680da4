/**
 * Our lean websocket against the `ws` package, both ways, over real TLS on loopback:
 * our server (upgradeToWebSocket) with a `ws` client, and our client (dialTunnel) with a `ws` server.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { generateSelfSigned } from '../../src/engine/tls/self-signed.js';
import { upgradeToWebSocket } from '../../src/engine/transport/websocket-accept.js';
import { dialTunnel } from '../../src/engine/transport/websocket-dial.js';
import type { WebSocketDuplex } from '../../src/engine/transport/websocket-duplex.js';

const identity = generateSelfSigned({ ips: ['127.0.0.1'] });
const MiB = 1024 * 1024;
const SIZES = [0, 1, 125, 126, 127, 65535, 65536, 65537, MiB];
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** An https server whose upgrades go through upgradeToWebSocket; resolves duplexes in order. */
async function startOurServer(protocols = ['inlets.v1']) {
  const server = createServer({ cert: identity.certPem, key: identity.keyPem });
  const duplexes: WebSocketDuplex[] = [];
  const waiting: Array<(d: WebSocketDuplex) => void> = [];
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const result = upgradeToWebSocket(req, socket, head, { protocols });
    if (!result) return;
    result.duplex.on('error', () => {}); // tests look at the error they expect through once()
    cleanups.push(() => void result.duplex.destroy());
    const next = waiting.shift();
    if (next) next(result.duplex);
    else duplexes.push(result.duplex);
  });
  const port = await listen(server);
  return {
    url: `wss://127.0.0.1:${port}/connect`,
    nextDuplex: () => new Promise<WebSocketDuplex>((resolve) => (duplexes.length ? resolve(duplexes.shift()!) : waiting.push(resolve))),
  };
}

async function openWsClient(url: string, protocols: string | string[] = 'inlets.v1', options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, protocols, { ca: identity.certPem, headers: { Authorization: 'Bearer t' }, ...options });
  cleanups.push(() => ws.terminate());
  await once(ws, 'open');
  return ws;
}

/** Collects bytes from a duplex until `length` have arrived. */
function collect(duplex: Duplex, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let have = 0;
    const onData = (data: Buffer) => {
      parts.push(data);
      have += data.length;
      if (have >= length) {
        duplex.off('data', onData);
        resolve(Buffer.concat(parts));
      }
    };
    duplex.on('data', onData);
    duplex.once('error', reject);
    if (length === 0) resolve(Buffer.alloc(0));
  });
}

function collectMessages(ws: WebSocket, count: number): Promise<Array<{ data: Buffer; isBinary: boolean }>> {
  return new Promise((resolve) => {
    const messages: Array<{ data: Buffer; isBinary: boolean }> = [];
    const onMessage = (data: Buffer, isBinary: boolean) => {
      messages.push({ data, isBinary });
      if (messages.length === count) {
        ws.off('message', onMessage);
        resolve(messages);
      }
    };
    ws.on('message', onMessage);
  });
}

/** Writes one buffer at a time, each after the previous one's callback, so none are batched. */
async function writeEach(duplex: Duplex, buffers: Buffer[]): Promise<void> {
  for (const buffer of buffers) {
    await new Promise<void>((resolve, reject) => duplex.write(buffer, (error) => (error ? reject(error) : resolve())));
  }
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('our server, ws client', () => {
  it('receives binary messages of every length class from ws', async () => {
    const server = await startOurServer();
    const ws = await openWsClient(server.url);
    const duplex = await server.nextDuplex();
    const messages = SIZES.map((size) => randomBytes(size));
    const expected = Buffer.concat(messages);
    const received = collect(duplex, expected.length);
    for (const message of messages) ws.send(message, { binary: true });
    expect((await received).equals(expected)).toBe(true);
  });

  it('receives 5 MiB sent by ws as 64 KiB messages and as fragmented messages', async () => {
    const server = await startOurServer();
    const ws = await openWsClient(server.url);
    const duplex = await server.nextDuplex();
    const data = randomBytes(5 * MiB);
    const received = collect(duplex, data.length * 2);
    for (let at = 0; at < data.length; at += 64 * 1024) ws.send(data.subarray(at, at + 64 * 1024), { binary: true });
    // The same again as messages of 512 KiB, each sent in four fragments.
    for (let at = 0; at < data.length; at += 128 * 1024) {
      ws.send(data.subarray(at, at + 128 * 1024), { binary: true, fin: (at / (128 * 1024)) % 4 === 3 });
    }
    const all = await received;
    expect(sha(all.subarray(0, data.length))).toBe(sha(data));
    expect(sha(all.subarray(data.length))).toBe(sha(data));
  });

  it('sends each write as one binary message, and splits writes over 1 MiB', async () => {
    const server = await startOurServer();
    const ws = await openWsClient(server.url);
    const duplex = await server.nextDuplex();
    const messages = SIZES.map((size) => randomBytes(size));
    const big = randomBytes(5 * MiB + 3);
    const received = collectMessages(ws, messages.length + 6);
    await writeEach(duplex, [...messages, big]);
    const got = await received;
    expect(got.every((m) => m.isBinary)).toBe(true);
    expect(got.slice(0, messages.length).map((m) => m.data.length)).toEqual(SIZES);
    got.slice(0, messages.length).forEach((m, i) => expect(m.data.equals(messages[i])).toBe(true));
    const pieces = got.slice(messages.length).map((m) => m.data);
    expect(pieces.map((p) => p.length)).toEqual([MiB, MiB, MiB, MiB, MiB, 3]);
    expect(Buffer.concat(pieces).equals(big)).toBe(true);
  });

  it('answers pings from ws, and ws answers ours', async () => {
    const server = await startOurServer();
    const ws = await openWsClient(server.url);
    const duplex = await server.nextDuplex();
    duplex.resume();
    const pong = once(ws, 'pong');
    ws.ping(Buffer.from('from-ws'));
    expect(String((await pong)[0])).toBe('from-ws');
    const ourPong = once(duplex, 'pong');
    duplex.ping(Buffer.from('from-us'));
    expect(String((await ourPong)[0])).toBe('from-us');
  });

  it('ends when ws closes, answering the close', async () => {
    const server = await startOurServer();
    const ws = await openWsClient(server.url);
    const duplex = await server.nextDuplex();
    const data = collect(duplex, 3);
    ws.send(Buffer.from('abc'));
    expect((await data).toString()).toBe('abc');
    const ended = once(duplex, 'end');
    const closed = once(duplex, 'close');
    const wsClosed = once(ws, 'close');
    ws.close(1000, 'bye');
    await ended;
    await closed;
    expect(duplex.closeCode).toBe(1000);
    expect(duplex.closeReason).toBe('bye');
    const [code] = await wsClosed;
    expect(code).toBe(1000);
  });

  it('closes with 1000 when our side ends', async () => {
    const server = await startOurServer();
    const ws = await openWsClient(server.url);
    const duplex = await server.nextDuplex();
    duplex.resume();
    const wsClosed = once(ws, 'close');
    const closed = once(duplex, 'close');
    const messages = collectMessages(ws, 1);
    duplex.end(Buffer.from('last words'));
    expect((await messages)[0].data.toString()).toBe('last words');
    const [code] = await wsClosed;
    expect(code).toBe(1000);
    await closed;
  });

  it('rejects a text message with PROTOCOL_ERROR and close code 1002', async () => {
    const server = await startOurServer();
    const ws = await openWsClient(server.url);
    const duplex = await server.nextDuplex();
    duplex.resume();
    const failed = once(duplex, 'error');
    const wsClosed = once(ws, 'close');
    ws.send('hello');
    const [error] = await failed;
    expect(error).toMatchObject({ code: 'PROTOCOL_ERROR' });
    expect((await wsClosed)[0]).toBe(1002);
  });

  it('rejects a message over 1 MiB with PROTOCOL_ERROR and close code 1009', async () => {
    const server = await startOurServer();
    const ws = await openWsClient(server.url);
    const duplex = await server.nextDuplex();
    duplex.resume();
    const failed = once(duplex, 'error');
    const wsClosed = once(ws, 'close');
    ws.send(Buffer.alloc(MiB + 1));
    const [error] = await failed;
    expect(error).toMatchObject({ code: 'PROTOCOL_ERROR' });
    expect((error as Error).message).toMatch(/1048576/);
    expect((await wsClosed)[0]).toBe(1009);
  });

  it('picks the protocol it speaks from several offered', async () => {
    const server = await startOurServer(['inlets.v1']);
    const ws = await openWsClient(server.url, ['inlets.v3', 'inlets.v1']);
    expect(ws.protocol).toBe('inlets.v1');
  });

  it('answers 426 VERSION_UNSUPPORTED with the versions it speaks', async () => {
    const server = await startOurServer(['inlets.v1']);
    const ws = new WebSocket(server.url, 'inlets.v9', { ca: identity.certPem });
    cleanups.push(() => ws.terminate());
    ws.on('error', () => {});
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    expect(res.statusCode).toBe(426);
    let body = '';
    for await (const chunk of res) body += chunk;
    expect(JSON.parse(body)).toMatchObject({ code: 'VERSION_UNSUPPORTED', supported: ['inlets.v1'] });
  });

  it('answers 400 BAD_REQUEST to a websocket version other than 13', async () => {
    const server = await startOurServer();
    const ws = new WebSocket(server.url, 'inlets.v1', { ca: identity.certPem, protocolVersion: 8 });
    cleanups.push(() => ws.terminate());
    ws.on('error', () => {});
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    expect(res.statusCode).toBe(400);
    expect(res.headers['sec-websocket-version']).toBe('13');
    let body = '';
    for await (const chunk of res) body += chunk;
    expect(JSON.parse(body)).toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('our client, ws server', () => {
  async function startWsServer(options: { protocol?: string | false } = {}) {
    const server = createServer({ cert: identity.certPem, key: identity.keyPem });
    const wss = new WebSocketServer({
      server,
      maxPayload: MiB,
      handleProtocols: (offered) => (options.protocol === undefined ? (offered.has('inlets.v1') ? 'inlets.v1' : false) : options.protocol),
      verifyClient: (info, callback) => {
        if (info.req.headers.authorization === 'Bearer good-token') callback(true);
        else callback(false, 401, 'token refused');
      },
    });
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const connections: Array<{ ws: WebSocket; req: IncomingMessage }> = [];
    const waiting: Array<(c: { ws: WebSocket; req: IncomingMessage }) => void> = [];
    wss.on('connection', (ws, req) => {
      const next = waiting.shift();
      if (next) next({ ws, req });
      else connections.push({ ws, req });
    });
    const port = await listen(server);
    const dial = async () => {
      const { duplex, protocol } = await dialTunnel({
        url: `wss://127.0.0.1:${port}`,
        token: 'good-token',
        clientId: 'interop-1',
        trust: { pin: identity.pin },
      });
      cleanups.push(() => void duplex.destroy());
      const peer = await new Promise<{ ws: WebSocket; req: IncomingMessage }>((resolve) =>
        connections.length ? resolve(connections.shift()!) : waiting.push(resolve),
      );
      return { duplex, protocol, ...peer };
    };
    return { port, dial };
  }

  it('connects with the token, client id and protocol', async () => {
    const { dial } = await startWsServer();
    const { protocol, req, ws } = await dial();
    expect(protocol).toBe('inlets.v1');
    expect(ws.protocol).toBe('inlets.v1');
    expect(req.url).toBe('/connect');
    expect(req.headers['x-inlets-client-id']).toBe('interop-1');
  });

  it('sends each write as one masked binary message that ws accepts', async () => {
    const { dial } = await startWsServer();
    const { duplex, ws } = await dial();
    const messages = SIZES.map((size) => randomBytes(size));
    const received = collectMessages(ws, messages.length);
    await writeEach(duplex, messages);
    const got = await received;
    expect(got.map((m) => m.data.length)).toEqual(SIZES);
    got.forEach((m, i) => {
      expect(m.isBinary).toBe(true);
      expect(m.data.equals(messages[i])).toBe(true);
    });
  });

  it('batches corked writes into one message, never cutting a chunk, and splits a 2.5 MiB write', async () => {
    const { dial } = await startWsServer();
    const { duplex, ws } = await dial();
    const small = [randomBytes(10), randomBytes(20), randomBytes(30)];
    const large = [randomBytes(600 * 1024), randomBytes(600 * 1024), randomBytes(100 * 1024)];
    const big = randomBytes(2.5 * MiB);
    const received = collectMessages(ws, 1 + 2 + 3);
    const batch = (parts: Buffer[]) =>
      new Promise<void>((resolve) => {
        duplex.cork();
        parts.forEach((part, i) => duplex.write(part, i === parts.length - 1 ? () => resolve() : undefined));
        process.nextTick(() => duplex.uncork());
      });
    await batch(small);
    await batch(large);
    await writeEach(duplex, [big]);
    const got = await received;
    expect(got[0].data.equals(Buffer.concat(small))).toBe(true);
    expect(got.slice(1, 3).map((m) => m.data.length)).toEqual([600 * 1024, 700 * 1024]);
    expect(Buffer.concat([got[1].data, got[2].data]).equals(Buffer.concat(large))).toBe(true);
    expect(got.slice(3).map((m) => m.data.length)).toEqual([MiB, MiB, MiB / 2]);
    expect(Buffer.concat(got.slice(3).map((m) => m.data)).equals(big)).toBe(true);
  });

  it('receives messages of every length class and 5 MiB from ws', async () => {
    const { dial } = await startWsServer();
    const { duplex, ws } = await dial();
    const messages = [...SIZES.map((size) => randomBytes(size)), ...Array.from({ length: 5 }, () => randomBytes(MiB))];
    const expected = Buffer.concat(messages);
    const received = collect(duplex, expected.length);
    for (const message of messages) ws.send(message, { binary: true });
    expect(sha(await received)).toBe(sha(expected));
  });

  it('answers pings from ws, and ws answers ours', async () => {
    const { dial } = await startWsServer();
    const { duplex, ws } = await dial();
    duplex.resume();
    const pong = once(ws, 'pong');
    ws.ping(Buffer.from('server-ping'));
    expect(String((await pong)[0])).toBe('server-ping');
    const ourPong = once(duplex, 'pong');
    duplex.ping(Buffer.from('client-ping'));
    expect(String((await ourPong)[0])).toBe('client-ping');
  });

  it('ends when ws closes', async () => {
    const { dial } = await startWsServer();
    const { duplex, ws } = await dial();
    duplex.resume();
    const closed = once(duplex, 'close');
    const ended = once(duplex, 'end');
    ws.close(1001, 'going away');
    await ended;
    await closed;
    expect(duplex.closeCode).toBe(1001);
  });

  it('closes with 1000 when our side ends', async () => {
    const { dial } = await startWsServer();
    const { duplex, ws } = await dial();
    duplex.resume();
    const wsClosed = once(ws, 'close');
    const closed = once(duplex, 'close');
    duplex.end();
    expect((await wsClosed)[0]).toBe(1000);
    await closed;
  });

  it('fails with AUTH_FAILED on 401, never showing the token', async () => {
    const { port } = await startWsServer();
    const error = await dialTunnel({
      url: `wss://127.0.0.1:${port}/connect`,
      token: 'wrong-secret-value',
      clientId: 'c',
      trust: { pin: identity.pin },
    }).catch((e) => e);
    expect(error).toMatchObject({ code: 'AUTH_FAILED' });
    expect(error.message).toMatch(/401/);
    expect(error.message).not.toContain('wrong-secret-value');
  });

  it('fails with HANDSHAKE_FAILED when the server picks no protocol', async () => {
    const { port } = await startWsServer({ protocol: false });
    const error = await dialTunnel({
      url: `wss://127.0.0.1:${port}`,
      token: 'good-token',
      clientId: 'c',
      trust: { pin: identity.pin },
    }).catch((e) => e);
    expect(error).toMatchObject({ code: 'HANDSHAKE_FAILED' });
    expect(error.message).toMatch(/not offered/);
  });
});
