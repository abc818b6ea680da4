/**
 * Typed engine errors and the mux bounds that end a session with them: one code per cause, the
 * websocket close status on the error, fatal-vs-retryable from the code alone, window credit over
 * 2^31-1 as a protocol error, and a peer that lets control frames pile up.
 */
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { duplexPair } from '../helpers/duplex-pair.js';
import { TunnelError, isFatalTunnelCode, type TunnelErrorCode } from '../../src/errors.js';
import { asNotInlets } from '../../src/engine/client/not-inlets.js';
import { MuxSession } from '../../src/engine/mux/mux-session.js';
import { ErrorCode, FrameDecoder, FrameType, MAX_CREDIT, decodeCodeReason, encodeFrame } from '../../src/engine/protocol/frame-codec.js';
import { FrameParser, encodeHeader } from '../../src/engine/transport/websocket-frame.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((fn) => fn()));

/** A server session on one end of a memory pair; the other end is driven by hand. */
function serverWithRawPeer(options: ConstructorParameters<typeof MuxSession>[1] = { role: 'server' }) {
  const [a, b] = duplexPair({ highWaterMark: options.highWaterMark ?? 65536 });
  const server = new MuxSession(a, { keepaliveIntervalMs: 0, ...options });
  cleanups.push(() => (server.close(), b.destroy()));
  const send = (type: number, id: number, payload?: Buffer) => b.write(encodeFrame(type, 0, id, payload));
  return { server, b, send };
}

/** Reads the GOAWAYs `end` receives. */
function goAwaysOn(end: Duplex) {
  const got: { code: number; reason: string }[] = [];
  const decoder = new FrameDecoder((type, _flags, _id, payload) => type === FrameType.GOAWAY && got.push(decodeCodeReason(payload)));
  end.on('data', (d: Buffer) => decoder.push(d));
  return got;
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
};

describe('mux bounds end the session with a typed error and a GOAWAY that says why', () => {
  it('WINDOW credit beyond 2^31-1 is a protocol error', async () => {
    const { server, b, send } = serverWithRawPeer();
    const goAways = goAwaysOn(b);
    const stream = server.openStream({ port: 1 }); // 256 KiB of credit to start with
    stream.on('error', () => {});
    const closed = once(server, 'close');
    send(FrameType.WINDOW, stream.id, u32(MAX_CREDIT - 256 * 1024)); // exactly at the cap: fine
    expect(server.closed).toBe(false);
    send(FrameType.WINDOW, stream.id, u32(1));
    const [err] = (await closed) as [TunnelError];
    expect(err).toMatchObject({ code: 'PROTOCOL_ERROR', message: expect.stringMatching(/credit over 2\^31-1/) });
    await new Promise((r) => setImmediate(r));
    expect(goAways[0]).toMatchObject({ code: ErrorCode.PROTOCOL_ERROR, reason: expect.stringMatching(/credit over 2\^31-1/) });
  });

  it('a peer that does not read while its OPENs are refused gets GOAWAY LIMIT_EXCEEDED (control queue)', async () => {
    // Tiny buffers: the peer's unread end fills at once and the RESETs queue up.
    const { server, b, send } = serverWithRawPeer({ role: 'server', highWaterMark: 1024, maxQueuedControl: 50 });
    const closed = once(server, 'close');
    for (let id = 1; id < 400; id += 2) send(FrameType.OPEN, id, Buffer.from('{}'));
    const [err] = (await closed) as [TunnelError];
    expect(err).toMatchObject({ code: 'LIMIT_EXCEEDED', message: expect.stringMatching(/over 50 control frames queued/) });
    const goAways = goAwaysOn(b); // reading now: what was queued, then the GOAWAY
    await new Promise((r) => setTimeout(r, 50));
    expect(goAways).toContainEqual({ code: ErrorCode.LIMIT_EXCEEDED, reason: err.message });
  });

  it('answers a burst of PINGs once, with the latest', async () => {
    const { server, b, send } = serverWithRawPeer({ role: 'server', maxPingsWaiting: 100 });
    const acks: string[] = [];
    const decoder = new FrameDecoder((type, _f, _id, payload) => type === FrameType.PING && acks.push(payload.toString('hex')));
    b.on('data', (d: Buffer) => decoder.push(d));
    for (let i = 0; i < 50; i++) send(FrameType.PING, 0, Buffer.alloc(8, i));
    await new Promise((r) => setTimeout(r, 50));
    expect(acks).toEqual([Buffer.alloc(8, 49).toString('hex')]);
    expect(server.closed).toBe(false);
  });

  it('holds one PING answer for a peer that floods PINGs and reads nothing', async () => {
    const { server, b } = serverWithRawPeer({ role: 'server', highWaterMark: 1024, maxPingsWaiting: Number.MAX_SAFE_INTEGER });
    const ping = encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(8, 1));
    const burst = Buffer.concat(Array.from({ length: 10_000 }, () => ping));
    for (let i = 0; i < 20; i++) {
      b.write(burst);
      await new Promise((r) => setImmediate(r));
    }
    expect(server.stats().bytesIn).toBe(20 * burst.length);
    // 200 000 answers would be 4 MB; one waits (20 bytes) plus the little the transport holds.
    expect(server.stats().bufferedOut).toBeLessThan(64 * 1024);
    expect(server.closed).toBe(false);
  });

  it('openStream after GOAWAY throws GOAWAY; a peer GOAWAY then hang-up closes with GOAWAY; a hang-up alone with CONNECTION_LOST', async () => {
    const one = serverWithRawPeer();
    const closed = once(one.server, 'close');
    one.send(FrameType.GOAWAY, 0, Buffer.concat([u32(ErrorCode.SHUTDOWN), Buffer.from('restart')]));
    await once(one.server, 'goaway');
    expect(() => one.server.openStream({})).toThrow(expect.objectContaining({ code: 'GOAWAY' }));
    one.b.end();
    expect(((await closed) as [TunnelError])[0]).toMatchObject({ code: 'GOAWAY', message: 'peer went away: SHUTDOWN (restart)' });

    const two = serverWithRawPeer();
    const lost = once(two.server, 'close');
    two.b.end();
    expect(((await lost) as [TunnelError])[0].code).toBe('CONNECTION_LOST');
  });
});

describe('TunnelError codes', () => {
  it('decides fatal from the code alone', () => {
    const fatal: TunnelErrorCode[] = ['AUTH_FAILED', 'VERSION_UNSUPPORTED', 'TLS_PIN_MISMATCH', 'TLS_VERIFY_FAILED', 'PORTS_REFUSED', 'REPLACED', 'NOT_INLETS', 'TOKEN_EMPTY'];
    const retryable: TunnelErrorCode[] = ['CONNECT_FAILED', 'TIMEOUT', 'GOAWAY', 'SESSION_CLOSED', 'CONNECTION_LOST', 'KEEPALIVE_TIMEOUT', 'PROTOCOL_ERROR', 'LIMIT_EXCEEDED', 'HANDSHAKE_FAILED'];
    for (const code of fatal) expect(isFatalTunnelCode(code), code).toBe(true);
    for (const code of retryable) expect(isFatalTunnelCode(code), code).toBe(false);
  });

  it('carries the websocket close status chosen where the error is made', () => {
    const thrown = (bytes: Buffer) => {
      const parser = new FrameParser({ onData: () => {}, onControl: () => {} }, { role: 'client', maxMessageBytes: 1000 });
      try {
        parser.push(bytes);
      } catch (err) {
        return err as TunnelError;
      }
      throw new Error('no error');
    };
    expect(thrown(encodeHeader(0x2, true, 2000))).toMatchObject({ code: 'PROTOCOL_ERROR', closeStatus: 1009 });
    expect(thrown(Buffer.concat([encodeHeader(0x1, true, 1), Buffer.from('x')]))).toMatchObject({ code: 'PROTOCOL_ERROR', closeStatus: 1002 });
  });

  it('tells "not inlets" from the HTTP status on the error, not its text', () => {
    const notFound = new TunnelError('HANDSHAKE_FAILED', 'anything at all', { httpStatus: 404 });
    expect(asNotInlets(notFound, 'wss://example.test:8123')).toMatchObject({ code: 'NOT_INLETS' });
    const busy = new TunnelError('HANDSHAKE_FAILED', 'answered 404 in the text only', { httpStatus: 503 });
    expect(asNotInlets(busy, 'wss://example.test:8123')).toBe(busy);
  });
});
