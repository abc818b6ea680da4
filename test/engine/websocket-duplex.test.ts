/**
 * WebSocketDuplex against a raw peer on a loopback TCP connection: the test writes and reads
 * frame bytes by hand, so behaviour on bad input, close and backpressure is checked exactly.
 */
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketDuplex } from '../../src/engine/transport/websocket-duplex.js';
import { encodeHeader, maskInPlace } from '../../src/engine/transport/websocket-frame.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A connected pair of TCP sockets on 127.0.0.1: `ours` gets the duplex, `raw` is the test's peer. */
async function socketPair(): Promise<{ ours: Socket; raw: Socket }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = once(server, 'connection');
  const raw = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const [ours] = (await accepted) as [Socket];
  await once(raw, 'connect').catch(() => {});
  server.close();
  cleanups.push(() => {
    ours.destroy();
    raw.destroy();
  });
  return { ours, raw };
}

/** Everything the raw peer receives, as hex, once `bytes` have arrived. */
function rawReceives(raw: Socket, bytes: number): Promise<string> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const onData = (data: Buffer) => {
      got = Buffer.concat([got, data]);
      if (got.length >= bytes) {
        raw.off('data', onData);
        resolve(got.toString('hex'));
      }
    };
    raw.on('data', onData);
  });
}

/** A duplex whose errors the tests look at through once(); cleanup errors are expected. */
function duplexOn(socket: Socket, options: ConstructorParameters<typeof WebSocketDuplex>[1]): WebSocketDuplex {
  const duplex = new WebSocketDuplex(socket, options);
  duplex.on('error', () => {});
  return duplex;
}

function maskedFrame(first: number, payload: Buffer, key = hex('11223344')): Buffer {
  const body = Buffer.from(payload);
  maskInPlace(body, key);
  const header = encodeHeader(first & 0x0f, (first & 0x80) !== 0, payload.length, key);
  return Buffer.concat([header, body]);
}

describe('WebSocketDuplex with a raw peer', () => {
  it('server role: closes with 1002 and PROTOCOL_ERROR on an unmasked frame', async () => {
    const { ours, raw } = await socketPair();
    const duplex = duplexOn(ours, { role: 'server' });
    duplex.resume();
    const closeFrame = rawReceives(raw, 4);
    raw.write(hex('8203 616263'));
    const [error] = await once(duplex, 'error');
    expect(error).toMatchObject({ code: 'PROTOCOL_ERROR', closeStatus: 1002, message: expect.stringMatching(/not masked/) });
    expect(await closeFrame).toBe('880203ea'); // close, 1002 (from the error's closeStatus)
  });

  it('client role: rejects a masked frame from the server', async () => {
    const { ours, raw } = await socketPair();
    const duplex = duplexOn(ours, { role: 'client' });
    duplex.resume();
    raw.write(maskedFrame(0x82, Buffer.from('abc')));
    const [error] = await once(duplex, 'error');
    expect(error).toMatchObject({ code: 'PROTOCOL_ERROR', message: expect.stringMatching(/masked/) });
  });

  it('parses the handshake leftovers given as head before socket data', async () => {
    const { ours, raw } = await socketPair();
    const duplex = duplexOn(ours, { role: 'client', head: hex('8202 6869 82') });
    const chunks: Buffer[] = [];
    duplex.on('data', (d: Buffer) => chunks.push(d));
    raw.write(hex('03 212121'));
    await new Promise<void>((resolve) => duplex.on('data', () => Buffer.concat(chunks).length === 5 && resolve()));
    expect(Buffer.concat(chunks).toString()).toBe('hi!!!');
  });

  it('answers a ping with a pong carrying the same bytes (masked in the client role)', async () => {
    const { ours, raw } = await socketPair();
    const duplex = duplexOn(ours, { role: 'client' });
    duplex.resume();
    const answer = rawReceives(raw, 2 + 4 + 3);
    raw.write(hex('8903 707070'));
    const bytes = Buffer.from(await answer, 'hex');
    expect(bytes.subarray(0, 2).toString('hex')).toBe('8a83');
    const payload = Buffer.from(bytes.subarray(6));
    maskInPlace(payload, bytes.subarray(2, 6));
    expect(payload.toString()).toBe('ppp');
  });

  it('answers a close with the same code, ends, and ignores what follows it', async () => {
    const { ours, raw } = await socketPair();
    const duplex = duplexOn(ours, { role: 'server' });
    const chunks: Buffer[] = [];
    duplex.on('data', (d: Buffer) => chunks.push(d));
    const answer = rawReceives(raw, 4);
    const ended = once(duplex, 'end');
    const closed = once(duplex, 'close');
    raw.write(Buffer.concat([maskedFrame(0x82, Buffer.from('before')), maskedFrame(0x88, hex('0bb8')), maskedFrame(0x82, Buffer.from('after'))]));
    expect(await answer).toBe('88020bb8'); // 3000 echoed
    await ended;
    expect(Buffer.concat(chunks).toString()).toBe('before');
    expect(duplex.closeCode).toBe(3000);
    raw.end();
    await closed;
  });

  it('rejects a close frame with a 1-byte payload', async () => {
    const { ours, raw } = await socketPair();
    const duplex = duplexOn(ours, { role: 'client' });
    duplex.resume();
    raw.write(hex('8801 01'));
    const [error] = await once(duplex, 'error');
    expect(error).toMatchObject({ code: 'PROTOCOL_ERROR' });
  });

  it('reports CONNECTION_LOST when the peer hangs up without a close frame', async () => {
    const { ours, raw } = await socketPair();
    const duplex = duplexOn(ours, { role: 'client' });
    duplex.resume();
    raw.end();
    const [error] = await once(duplex, 'error');
    expect(error).toMatchObject({ code: 'CONNECTION_LOST' });
  });

  it('holds write callbacks while the socket is full, and counts bufferedAmount', async () => {
    const { ours, raw } = await socketPair();
    raw.pause(); // the peer reads nothing: the kernel buffers fill, then the socket's
    const duplex = duplexOn(ours, { role: 'server', writableHighWaterMark: 1024 * 1024 });
    duplex.resume();
    const block = Buffer.alloc(1024 * 1024, 1);
    let completed = 0;
    const written = 64;
    for (let i = 0; i < written; i++) duplex.write(block, () => completed++);
    // Wait until the kernel and the socket hold what they will take.
    for (let i = 0; i < 100 && ours.writableLength === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    expect(completed).toBeLessThan(written);
    const buffered = duplex.bufferedAmount;
    expect(buffered).toBeGreaterThan(0);
    expect(buffered).toBeLessThanOrEqual(written * (block.length + 10));
    expect(buffered).toBeGreaterThanOrEqual(ours.writableLength);
    // The peer starts reading: everything drains and every callback runs.
    let received = 0;
    raw.on('data', (d: Buffer) => (received += d.length));
    raw.resume();
    for (let i = 0; i < 1000 && completed < written; i++) await new Promise((r) => setTimeout(r, 10));
    expect(completed).toBe(written);
    expect(duplex.bufferedAmount).toBe(0);
    for (let i = 0; i < 1000 && received < written * (block.length + 10); i++) await new Promise((r) => setTimeout(r, 10));
    expect(received).toBe(written * (block.length + 10)); // 10-byte header per 1 MiB message
  });

  it('lets the reader set the pace: a paused duplex stops reading the socket', async () => {
    const { ours, raw } = await socketPair();
    const duplex = duplexOn(ours, { role: 'client', readableHighWaterMark: 64 * 1024 });
    const frame = Buffer.concat([encodeHeader(0x2, true, 65536), Buffer.alloc(65536, 2)]);
    let rawBlocked = false;
    for (let i = 0; i < 400 && !rawBlocked; i++) rawBlocked = !raw.write(frame);
    await new Promise((r) => setTimeout(r, 200));
    // Nothing read the duplex: it holds about its high-water mark, not everything the peer sent.
    expect(duplex.readableLength).toBeLessThan(1024 * 1024);
    expect(rawBlocked).toBe(true);
    let received = 0;
    duplex.on('data', (d: Buffer) => (received += d.length));
    await new Promise((r) => setTimeout(r, 200));
    expect(received).toBeGreaterThan(0);
  });
});

describe('WebSocketDuplex under a ping flood from a peer that does not read', () => {
  /** Masked ping frames, `count` of them with 125-byte payloads, in one buffer. */
  const pings = (count: number) => {
    const one = maskedFrame(0x89, Buffer.alloc(125, 3));
    return Buffer.concat(Array.from({ length: count }, () => one));
  };

  it('holds one pong at a time once the socket is full, so what it buffers stays bounded', async () => {
    const { ours, raw } = await socketPair();
    raw.pause(); // never reads the pongs
    const duplex = duplexOn(ours, { role: 'server', maxPingsWaiting: Number.MAX_SAFE_INTEGER });
    duplex.resume();
    const batch = pings(8000); // about 1 MiB
    let most = 0;
    for (let sent = 0; sent < 48 * 1024 * 1024; sent += batch.length) {
      if (!raw.write(batch)) await once(raw, 'drain');
      most = Math.max(most, ours.writableLength);
    }
    // Without coalescing every pong (127 bytes for 131 sent) would wait in the socket: about 46 MiB.
    expect(ours.writableLength).toBeLessThan(256 * 1024);
    expect(most).toBeLessThan(256 * 1024);
    expect(duplex.destroyed).toBe(false);
  });

  it('reports the flood as a violation (LIMIT_EXCEEDED, close 1008) past maxPingsWaiting', async () => {
    const { ours, raw } = await socketPair();
    raw.pause();
    const duplex = duplexOn(ours, { role: 'server', maxPingsWaiting: 10 });
    duplex.resume();
    const violation = once(duplex, 'violation');
    const batch = pings(8000);
    const flood = (async () => {
      while (!raw.destroyed && duplex.listenerCount('violation') > 0) {
        if (!raw.write(batch)) await Promise.race([once(raw, 'drain'), violation]);
      }
    })();
    const [err] = await violation;
    expect(err).toMatchObject({ code: 'LIMIT_EXCEEDED', closeStatus: 1008, message: expect.stringMatching(/over 10 pings while a pong waited/) });
    duplex.removeAllListeners('violation');
    raw.destroy();
    await flood;
  });
});
