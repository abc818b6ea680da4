/**
 * The mux behaviour suite, run over any transport pair (in-memory, TLS websockets, ...).
 * `a` carries the server session, `b` the client session (or a raw peer writing frames by hand).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { MuxSession, type MuxSessionOptions } from '../../src/engine/mux/mux-session.js';
import type { MuxStream } from '../../src/engine/mux/mux-stream.js';
import {
  ErrorCode,
  FrameDecoder,
  FrameFlag,
  FrameType,
  INITIAL_WINDOW,
  MAX_DATA_PAYLOAD,
  decodeCodeReason,
  encodeFrame,
} from '../../src/engine/protocol/frame-codec.js';
import type { TunnelError } from '../../src/errors.js';

export type MakePair = () => Promise<{ a: Duplex; b: Duplex; close(): Promise<void> }>;

const MiB = 1024 * 1024;
const noop = () => {};

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Resolves with everything the stream delivers until its end. */
function readAll(stream: MuxStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Reads to the end, hashing as it goes (no big buffers). */
function hashAll(stream: MuxStream): Promise<{ hash: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    stream.on('data', (c: Buffer) => {
      hash.update(c);
      bytes += c.length;
    });
    stream.once('end', () => resolve({ hash: hash.digest('hex'), bytes }));
    stream.once('error', reject);
  });
}

/** Writes `total` random bytes honouring backpressure, then ends; resolves with their hash. */
async function writeRandom(stream: MuxStream, total: number, progress?: (written: number) => void): Promise<string> {
  const hash = createHash('sha256');
  const block = randomBytes(MiB);
  let written = 0;
  while (written < total) {
    const size = Math.min(64 * 1024, total - written);
    const offset = written % MiB;
    // Vary the bytes so a reordered or repeated chunk changes the hash.
    const chunk = Buffer.from(block.subarray(offset, offset + size));
    if (size >= 4) chunk.writeUInt32BE(written >>> 0, 0);
    hash.update(chunk);
    written += size;
    progress?.(written);
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  return hash.digest('hex');
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until `value()` has not changed for `quietMs` (bounded by `timeoutMs`). */
async function waitStable(value: () => number, quietMs: number, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = value();
  let since = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 25));
    const now = value();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return now;
    if (Date.now() > deadline) throw new Error('value never settled');
  }
}

interface RawFrame {
  type: number;
  flags: number;
  id: number;
  payload: Buffer;
}

/** A hand-driven peer: writes frames as given and records the frames it receives. */
function rawPeer(transport: Duplex) {
  const frames: RawFrame[] = [];
  const decoder = new FrameDecoder((type, flags, id, payload) => frames.push({ type, flags, id, payload: Buffer.from(payload) }));
  transport.on('data', (chunk: Buffer) => decoder.push(chunk));
  transport.on('error', noop);
  return {
    frames,
    send(type: number, flags: number, id: number, payload?: Buffer) {
      transport.write(encodeFrame(type, flags, id, payload));
    },
    write(bytes: Buffer) {
      transport.write(bytes);
    },
  };
}

export function runMuxSuite(name: string, makePair: MakePair): void {
  describe(`mux over ${name}`, () => {
    const cleanups: Array<() => Promise<void> | void> = [];
    afterEach(async () => {
      while (cleanups.length) await cleanups.pop()!();
    });

    async function transports() {
      const pair = await makePair();
      cleanups.push(() => pair.close());
      return pair;
    }

    async function sessions(serverOptions: Partial<MuxSessionOptions> = {}, clientOptions: Partial<MuxSessionOptions> = {}) {
      const { a, b } = await transports();
      const server = new MuxSession(a, { role: 'server', ...serverOptions });
      const client = new MuxSession(b, { role: 'client', ...clientOptions });
      cleanups.push(() => {
        server.close();
        client.close();
      });
      return { server, client, a, b };
    }

    it('opens a stream, carries its metadata and echoes bytes (both sides open)', async () => {
      const { server, client } = await sessions();
      for (const [opener, acceptor] of [
        [client, server],
        [server, client],
      ] as const) {
        acceptor.once('stream', (s: MuxStream) => s.pipe(s));
        const stream = opener.openStream({ port: 2222, remote: '203.0.113.5:51514' });
        stream.end('hello through the tunnel');
        expect((await readAll(stream)).toString()).toBe('hello through the tunnel');
        expect(stream.id % 2).toBe(opener === client ? 1 : 0);
      }
    });

    it('delivers OPEN metadata and CONTROL messages, and answers pings', async () => {
      const { server, client } = await sessions();
      const accepted = once(server, 'stream');
      const stream = client.openStream({ port: 80, remote: '198.51.100.7:4000', extra: [1, 2] });
      const [peer] = (await accepted) as [MuxStream];
      expect(peer.id).toBe(stream.id);
      expect(peer.meta).toEqual({ port: 80, remote: '198.51.100.7:4000', extra: [1, 2] });
      const control = once(server, 'control');
      client.sendControl({ type: 'hello', mode: 'tcp', ports: [80, 443] });
      expect((await control)[0]).toEqual({ type: 'hello', mode: 'tcp', ports: [80, 443] });
      const rtt = await client.ping();
      expect(rtt).toBeGreaterThanOrEqual(0);
      expect(client.rttMs).toBeGreaterThanOrEqual(0);
      stream.destroy();
    });

    it('carries 200 parallel streams both ways with sha256 checksums', async () => {
      const { server, client } = await sessions();
      const serverReceived = new Map<number, Promise<{ hash: string; bytes: number }>>();
      const serverSent = new Map<number, Promise<string>>();
      server.on('stream', (s: MuxStream) => {
        const n = s.meta.n as number;
        serverReceived.set(n, hashAll(s));
        serverSent.set(n, writeRandom(s, s.meta.reply as number));
      });
      const jobs = Array.from({ length: 200 }, async (_, n) => {
        const size = Math.floor(Math.random() * 200 * 1024);
        const reply = Math.floor(Math.random() * 200 * 1024);
        const stream = client.openStream({ n, reply });
        const [sent, received] = await Promise.all([writeRandom(stream, size), hashAll(stream)]);
        return { n, sent, received, size, reply };
      });
      const results = await Promise.all(jobs);
      for (const r of results) {
        const atServer = await serverReceived.get(r.n)!;
        expect(atServer.bytes).toBe(r.size);
        expect(atServer.hash).toBe(r.sent);
        expect(r.received.bytes).toBe(r.reply);
        expect(r.received.hash).toBe(await serverSent.get(r.n)!);
      }
      await waitFor('streams to be released', () => server.streamCount === 0 && client.streamCount === 0);
    });

    it('half closes: the side that sent FIN still receives', async () => {
      const { server, client } = await sessions();
      // Client finishes first; the server answers after reading to the end.
      server.once('stream', async (s: MuxStream) => {
        const request = await readAll(s);
        s.end(`got ${request.toString()}`);
      });
      const first = client.openStream({});
      first.end('question');
      expect((await readAll(first)).toString()).toBe('got question');

      // Server finishes first; the client keeps sending afterwards.
      const serverGot = new Promise<string>((resolve) => {
        server.once('stream', async (s: MuxStream) => {
          s.end('bye from server');
          resolve((await readAll(s)).toString());
        });
      });
      const second = client.openStream({});
      const fromServer = await readAll(second);
      expect(fromServer.toString()).toBe('bye from server');
      second.write('still ');
      second.end('talking');
      expect(await serverGot).toBe('still talking');
    });

    it('propagates RESET both ways', async () => {
      const { server, client } = await sessions();
      for (const [opener, acceptor] of [
        [client, server],
        [server, client],
      ] as const) {
        const accepted = once(acceptor, 'stream');
        const stream = opener.openStream({});
        stream.write('x');
        const [peer] = (await accepted) as [MuxStream];
        const reset = once(peer, 'reset');
        const failed = once(peer, 'error');
        stream.reset(ErrorCode.UPSTREAM_UNREACHABLE, 'connection refused');
        expect(await reset).toEqual([ErrorCode.UPSTREAM_UNREACHABLE, 'connection refused']);
        expect(((await failed)[0] as TunnelError).code).toBe('STREAM_RESET');
        expect(stream.destroyed).toBe(true);
        await waitFor('the reset stream to be released', () => acceptor.streamCount === 0 && opener.streamCount === 0);
      }
      // The session is unharmed.
      server.once('stream', (s: MuxStream) => s.pipe(s));
      const stream = client.openStream({});
      stream.end('still fine');
      expect((await readAll(stream)).toString()).toBe('still fine');
    });

    it('a peer RESET on a stream nobody watches for errors just closes it', async () => {
      const { server, client } = await sessions();
      const accepted = once(server, 'stream');
      const stream = client.openStream({});
      const [peer] = (await accepted) as [MuxStream];
      let resetCode = -1;
      stream.on('reset', (code: number) => (resetCode = code));
      const closed = new Promise((resolve) => stream.on('close', resolve));
      peer.reset(ErrorCode.REFUSED);
      await closed;
      expect(resetCode).toBe(ErrorCode.REFUSED);
      expect(stream.destroyed).toBe(true);
      expect(stream.errored).toBeNull();
    });

    it('transfers 64 MiB with a matching checksum', async () => {
      const { server, client } = await sessions();
      const received = new Promise<{ hash: string; bytes: number }>((resolve) => server.once('stream', (s: MuxStream) => resolve(hashAll(s))));
      const stream = client.openStream({});
      stream.resume();
      const sent = await writeRandom(stream, 64 * MiB);
      const got = await received;
      expect(got.bytes).toBe(64 * MiB);
      expect(got.hash).toBe(sent);
    });

    it('a paused reader blocks the sender and bounds what every side buffers', async () => {
      const { server, client, b } = await sessions();
      const accepted = once(server, 'stream');
      const stream = client.openStream({});
      stream.on('error', noop);
      stream.resume();
      let written = 0;
      const sending = writeRandom(stream, 64 * MiB, (n) => (written = n));
      const [peer] = (await accepted) as [MuxStream];
      // The peer never reads: the sender must stall.
      const stalledAt = await waitStable(() => written, 400);
      expect(stalledAt).toBeLessThan(64 * MiB);
      expect(stalledAt).toBeLessThanOrEqual(2 * MiB);
      expect(peer.readableLength).toBeLessThanOrEqual(INITIAL_WINDOW + MAX_DATA_PAYLOAD);
      expect(server.stats().bufferedIn).toBeLessThanOrEqual(INITIAL_WINDOW + MAX_DATA_PAYLOAD);
      expect(client.stats().bufferedOut).toBeLessThanOrEqual(2 * MiB);
      const transportBuffered = (b as { bufferedAmount?: number }).bufferedAmount ?? b.writableLength;
      expect(transportBuffered).toBeLessThanOrEqual(2 * MiB);
      // Still blocked a while later.
      await new Promise((r) => setTimeout(r, 200));
      expect(written).toBe(stalledAt);
      // Reading again releases everything, intact.
      const got = await hashAll(peer);
      expect(got.bytes).toBe(64 * MiB);
      expect(got.hash).toBe(await sending);
    });

    it('stops reading the transport beyond the session budget, and resumes when streams are read', async () => {
      const budget = 256 * 1024;
      const { server, client } = await sessions({ sessionBudget: budget });
      const peers = new Map<number, MuxStream>();
      server.on('stream', (s: MuxStream) => peers.set(s.id, s));
      const sent = new Map<number, Promise<string>>();
      for (let i = 0; i < 8; i++) {
        const stream = client.openStream({ i });
        stream.resume();
        sent.set(stream.id, writeRandom(stream, 2 * MiB));
      }
      // Eight windows (2 MiB) of credit, but the server stops taking frames past its budget.
      await waitFor('streams to open', () => peers.size >= 1);
      await waitStable(() => server.stats().bytesIn, 400);
      const held = server.stats().bufferedIn;
      expect(held).toBeGreaterThan(budget);
      expect(held).toBeLessThanOrEqual(budget + MiB); // budget + one message
      // Read everything, including streams whose OPEN was still behind the budget.
      const reading = new Map([...peers].map(([id, s]) => [id, hashAll(s)]));
      server.on('stream', (s: MuxStream) => reading.set(s.id, hashAll(s)));
      await waitFor('all streams to open', () => reading.size === 8);
      const received = await Promise.all([...reading].map(async ([id, p]) => [id, await p] as const));
      for (const [id, got] of received) {
        expect(got.bytes).toBe(2 * MiB);
        expect(got.hash).toBe(await sent.get(id)!);
      }
      expect(server.stats().bufferedIn).toBe(0);
    });

    it('resets a stream whose raw peer sends beyond its credit (FLOW_CONTROL)', async () => {
      const { a, b } = await transports();
      const server = new MuxSession(a, { role: 'server' });
      cleanups.push(() => server.close());
      const raw = rawPeer(b);
      const accepted = once(server, 'stream');
      raw.send(FrameType.OPEN, 0, 1, Buffer.from('{"port":1}'));
      const block = Buffer.alloc(MAX_DATA_PAYLOAD, 7);
      for (let sent = 0; sent <= INITIAL_WINDOW; sent += block.length) raw.send(FrameType.DATA, 0, 1, block);
      const [peer] = (await accepted) as [MuxStream];
      peer.on('error', noop); // never read, so no credit is returned
      await waitFor('RESET FLOW_CONTROL', () => raw.frames.some((f) => f.type === FrameType.RESET && f.id === 1));
      const reset = raw.frames.find((f) => f.type === FrameType.RESET && f.id === 1)!;
      expect(decodeCodeReason(reset.payload).code).toBe(ErrorCode.FLOW_CONTROL);
      expect(peer.destroyed).toBe(true);
      expect(server.closed).toBe(false);
    });

    it('answers protocol violations with GOAWAY PROTOCOL_ERROR and closes', async () => {
      const { a, b } = await transports();
      const server = new MuxSession(a, { role: 'server' });
      cleanups.push(() => server.close());
      const raw = rawPeer(b);
      const closed = once(server, 'close');
      // An OPEN with the server's own (even) id parity.
      raw.send(FrameType.OPEN, 0, 2, Buffer.from('{}'));
      const [err] = (await closed) as [TunnelError];
      expect(err.code).toBe('PROTOCOL_ERROR');
      await waitFor('GOAWAY', () => raw.frames.some((f) => f.type === FrameType.GOAWAY));
      const goAway = raw.frames.find((f) => f.type === FrameType.GOAWAY)!;
      expect(decodeCodeReason(goAway.payload).code).toBe(ErrorCode.PROTOCOL_ERROR);
    });

    it('detects a peer that stops answering (keepalive timeout)', async () => {
      const { a, b } = await transports();
      const server = new MuxSession(a, { role: 'server', keepaliveIntervalMs: 50, keepaliveTimeoutMs: 300 });
      cleanups.push(() => server.close());
      const raw = rawPeer(b); // reads, never answers
      const started = Date.now();
      const [err] = (await once(server, 'close')) as [TunnelError];
      expect(err.code).toBe('KEEPALIVE_TIMEOUT');
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(raw.frames.filter((f) => f.type === FrameType.PING && f.flags === 0).length).toBeGreaterThanOrEqual(2);
    });

    it('keeps a session whose peer answers pings alive past the timeout', async () => {
      const { server, client } = await sessions(
        { keepaliveIntervalMs: 50, keepaliveTimeoutMs: 1000 },
        { keepaliveIntervalMs: 0 }, // the client only answers
      );
      await new Promise((r) => setTimeout(r, 2500));
      expect(server.closed).toBe(false);
      expect(client.closed).toBe(false);
      expect(server.rttMs).toBeGreaterThanOrEqual(0);
    });

    it('GOAWAY reaches the peer; no new streams either way, open ones keep working', async () => {
      const { server, client } = await sessions();
      server.on('stream', (s: MuxStream) => s.pipe(s));
      const accepted = once(server, 'stream');
      const before = client.openStream({});
      before.write('a');
      await accepted;
      const goAway = once(client, 'goaway');
      server.goAway(ErrorCode.SHUTDOWN, 'restarting');
      expect(await goAway).toEqual([ErrorCode.SHUTDOWN, 'restarting']);
      expect(() => server.openStream({})).toThrow(expect.objectContaining({ code: 'GOAWAY' }));
      expect(() => client.openStream({})).toThrow(expect.objectContaining({ code: 'GOAWAY' }));
      before.end('b');
      expect((await readAll(before)).toString()).toBe('ab');
    });

    it('closing a session destroys every stream on both sides and emits close once', async () => {
      const { server, client } = await sessions();
      const serverStreams: MuxStream[] = [];
      const clientStreams: MuxStream[] = [];
      server.on('stream', (s: MuxStream) => serverStreams.push(s));
      client.on('stream', (s: MuxStream) => clientStreams.push(s));
      for (let i = 0; i < 3; i++) {
        clientStreams.push(client.openStream({ i }));
        serverStreams.push(server.openStream({ i }));
      }
      await waitFor('all streams open', () => serverStreams.length === 6 && clientStreams.length === 6);
      for (const s of [...serverStreams, ...clientStreams]) s.on('error', noop);
      let serverCloses = 0;
      let clientCloses = 0;
      server.on('close', () => serverCloses++);
      client.on('close', () => clientCloses++);
      server.close();
      server.close();
      await waitFor('the client session to close', () => client.closed);
      await waitFor('every stream destroyed', () => [...serverStreams, ...clientStreams].every((s) => s.destroyed));
      expect(server.streamCount).toBe(0);
      expect(client.streamCount).toBe(0);
      expect(() => server.openStream({})).toThrow(expect.objectContaining({ code: 'SESSION_CLOSED' }));
      await expect(client.ping()).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
      await new Promise((r) => setTimeout(r, 50));
      expect(serverCloses).toBe(1);
      expect(clientCloses).toBe(1);
    });

    it('refuses streams when nobody listens for them', async () => {
      const { client } = await sessions();
      const stream = client.openStream({ port: 9 });
      const failed = once(stream, 'error');
      const [code] = await once(stream, 'reset');
      expect(((await failed)[0] as TunnelError).code).toBe('STREAM_RESET');
      expect(code).toBe(ErrorCode.REFUSED);
    });

    it('sets FIN and ACK flags as the protocol says', async () => {
      const { a, b } = await transports();
      const server = new MuxSession(a, { role: 'server', keepaliveIntervalMs: 0 });
      cleanups.push(() => server.close());
      const raw = rawPeer(b);
      server.on('stream', (s: MuxStream) => s.pipe(s));
      raw.send(FrameType.PING, 0, 0, Buffer.from('01234567'));
      raw.send(FrameType.OPEN, 0, 1, Buffer.from('{}'));
      raw.send(FrameType.DATA, FrameFlag.FIN, 1, Buffer.from('echo'));
      await waitFor('echo and FIN', () => raw.frames.some((f) => f.type === FrameType.DATA && f.flags & FrameFlag.FIN));
      const pong = raw.frames.find((f) => f.type === FrameType.PING)!;
      expect(pong.flags).toBe(FrameFlag.ACK);
      expect(pong.payload.toString()).toBe('01234567');
      const data = Buffer.concat(raw.frames.filter((f) => f.type === FrameType.DATA && f.id === 1).map((f) => f.payload));
      expect(data.toString()).toBe('echo');
    });
  });
}
