/**
 * PROTOCOL.md section 2.3: a websocket message holds whole mux frames. A frame cut at a message
 * end is a protocol error (GOAWAY PROTOCOL_ERROR, then close), however the message was fragmented
 * and whether its bytes were read at once or waited in the transport's buffer first; a frame split
 * between fragments of one message is fine.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, sleep, startServer, track } from '../helpers/engine-harness.js';
import { maskedFrame, rawTunnelPeer } from '../helpers/raw-tunnel-peer.js';
import { websocketPair } from '../helpers/websocket-pair.js';
import type { TunnelError } from '../../src/errors.js';
import { MuxSession } from '../../src/engine/mux/mux-session.js';
import { FrameType, encodeFrame } from '../../src/engine/protocol/frame-codec.js';
import { OP_BINARY, OP_CONTINUATION } from '../../src/engine/transport/websocket-frame.js';

afterEach(cleanupAll);

const hello = () => encodeFrame(FrameType.CONTROL, 0, 0, Buffer.from(JSON.stringify({ type: 'hello', mode: 'tcp', ports: [] })));
const CUT = { code: 'PROTOCOL_ERROR', reason: 'frame cut at a message end' };

describe('a mux frame cut at a websocket message boundary', () => {
  it('ends the session with GOAWAY PROTOCOL_ERROR instead of swallowing the next message', async () => {
    const { port, token } = await startServer();
    const peer = await rawTunnelPeer(port, token);
    const frame = hello();
    await peer.sendFrame(OP_BINARY, frame.subarray(0, 20));
    await peer.sendFrame(OP_BINARY, frame.subarray(20));
    const got = await peer.readUntilClosed();
    expect(got.goAways).toEqual([CUT]);
    expect(got.frames.some((f) => f.type === FrameType.CONTROL)).toBe(false); // no welcome: the hello never counted
  });

  it('accepts a frame split between fragments of one message, and catches a cut behind an empty final fragment', async () => {
    const { port, token } = await startServer();
    const peer = await rawTunnelPeer(port, token);
    const frame = hello();
    // One message in two fragments, the split inside the frame: valid.
    await peer.sendRaw(Buffer.concat([maskedFrame(OP_BINARY, frame.subarray(0, 7), false), maskedFrame(OP_CONTINUATION, frame.subarray(7), true)]));
    // A message whose last non-empty fragment ends inside a frame, closed by an empty fragment.
    const ping = encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(8));
    await peer.sendRaw(Buffer.concat([maskedFrame(OP_BINARY, ping.subarray(0, 5), false), maskedFrame(OP_CONTINUATION, Buffer.alloc(0), true)]));
    const got = await peer.readUntilClosed();
    const welcome = got.frames.find((f) => f.type === FrameType.CONTROL);
    expect(welcome && JSON.parse(welcome.payload.toString()).type).toBe('welcome');
    expect(got.goAways).toEqual([CUT]);
  });

  it('is caught when the messages waited in the transport before the session read them', async () => {
    const pair = await websocketPair();
    track(() => pair.close());
    const frame = hello();
    pair.b.write(frame.subarray(0, 20)); // each write is one message
    pair.b.write(frame.subarray(20));
    pair.a.read(0); // start reading the socket, with nobody taking the data yet
    await sleep(200); // both messages now wait, unread, in the server side's buffer
    expect(pair.a.readableLength).toBe(frame.length);
    const server = new MuxSession(pair.a, { role: 'server', keepaliveIntervalMs: 0 });
    const [err] = (await once(server, 'close')) as [TunnelError];
    expect(err).toMatchObject({ code: 'PROTOCOL_ERROR', message: CUT.reason });
  });

  it('lets whole frames through that waited in the transport, one message each', async () => {
    const pair = await websocketPair();
    track(() => pair.close());
    const frames = [hello(), encodeFrame(FrameType.CONTROL, 0, 0, Buffer.from('{"type":"later"}'))];
    for (const f of frames) pair.b.write(f);
    pair.a.read(0);
    await sleep(200);
    expect(pair.a.readableLength).toBe(frames[0].length + frames[1].length);
    const server = new MuxSession(pair.a, { role: 'server', keepaliveIntervalMs: 0 });
    track(() => server.close());
    const types: unknown[] = [];
    server.on('control', (m: { type: string }) => types.push(m.type));
    await sleep(200);
    expect(types).toEqual(['hello', 'later']);
    expect(server.closed).toBe(false);
  });
});
