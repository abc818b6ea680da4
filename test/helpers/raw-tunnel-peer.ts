/**
 * An authenticated tunnel peer that speaks raw bytes: it does the TLS websocket upgrade with the
 * token itself, then sends whatever websocket frames and mux frames a test builds (hostile floods,
 * frames cut at message ends) and reads only when told to, parsing what the server sent into mux
 * frames and the websocket close.
 */
import { randomBytes } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import { FrameDecoder, FrameType, decodeCodeReason, errorCodeName } from '../../src/engine/protocol/frame-codec.js';
import { FrameParser, OP_CLOSE, encodeHeader, maskInPlace, randomMaskKey } from '../../src/engine/transport/websocket-frame.js';

export interface ReceivedByPeer {
  /** Every mux frame but PINGs (counted in `pings`), in order. */
  frames: { type: number; flags: number; id: number; payload: Buffer }[];
  pings: number;
  /** The GOAWAYs among `frames`, decoded. */
  goAways: { code: string; reason: string }[];
  /** The websocket close the server sent, if any. */
  close?: { status: number; reason: string };
}

export interface RawTunnelPeer {
  socket: TLSSocket;
  /** Sends one masked websocket frame; resolves once the socket takes more (backpressure). */
  sendFrame(opcode: number, payload: Buffer, fin?: boolean): Promise<void>;
  /** Sends bytes as they are (whole websocket frames built with maskedFrame). */
  sendRaw(bytes: Buffer): Promise<void>;
  /** Starts reading; resolves with what arrived once the server closed the connection. */
  readUntilClosed(): Promise<ReceivedByPeer>;
}

/** Masked websocket frame bytes (the client role). */
export function maskedFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const key = randomMaskKey();
  const header = encodeHeader(opcode, fin, payload.length, key);
  const body = Buffer.from(payload);
  maskInPlace(body, key, 0);
  return Buffer.concat([header, body]);
}

/** Connects to the control port on 127.0.0.1 and upgrades with `token`; rejects unless 101. */
export async function rawTunnelPeer(port: number, token: string, clientId = 'raw-peer'): Promise<RawTunnelPeer> {
  const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    [
      'GET /connect HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Protocol: inlets.v1',
      `Authorization: Bearer ${token}`,
      `X-Inlets-Client-Id: ${clientId}`,
      '',
      '',
    ].join('\r\n'),
  );
  let rest = await new Promise<Buffer>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      const status = head.toString('latin1', 0, head.indexOf('\r\n'));
      if (!/^HTTP\/1\.1 101 /.test(status)) reject(new Error(`upgrade refused: ${status}`));
      else resolve(head.subarray(end + 4));
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('closed during the upgrade')));
  });
  socket.pause(); // the hostile part: read nothing until told to

  const sendRaw = (bytes: Buffer): Promise<void> => {
    if (socket.destroyed || socket.write(bytes)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => (socket.off('close', done), socket.off('drain', done), resolve());
      socket.once('drain', done).once('close', done);
    });
  };
  return {
    socket,
    sendRaw,
    sendFrame: (opcode, payload, fin = true) => sendRaw(maskedFrame(opcode, payload, fin)),
    readUntilClosed() {
      const got: ReceivedByPeer = { frames: [], pings: 0, goAways: [] };
      const mux = new FrameDecoder((type, flags, id, payload) => {
        if (type === FrameType.PING) return void got.pings++;
        got.frames.push({ type, flags, id, payload: Buffer.from(payload) });
        if (type === FrameType.GOAWAY) {
          const { code, reason } = decodeCodeReason(payload);
          got.goAways.push({ code: errorCodeName(code), reason });
        }
      });
      const ws = new FrameParser(
        {
          onData: (piece) => mux.push(piece),
          onControl: (opcode, payload) => {
            if (opcode === OP_CLOSE) got.close = { status: payload.readUInt16BE(0), reason: payload.toString('utf8', 2) };
          },
        },
        { role: 'client', maxMessageBytes: 1024 * 1024 },
      );
      return new Promise((resolve) => {
        const feed = (d: Buffer) => {
          try {
            ws.push(d);
          } catch {
            // what follows a broken frame is of no interest
          }
        };
        if (rest.length) feed(rest);
        rest = Buffer.alloc(0);
        socket.on('data', feed);
        socket.once('close', () => resolve(got));
        socket.resume();
      });
    },
  };
}

