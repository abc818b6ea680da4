/**
 * Joins a mux stream and a TCP socket: bytes flow both ways with backpressure, each direction
 * closes on its own (half close), and a failure on one side resets or destroys the other.
 */
import type { Socket } from 'node:net';
import { ErrorCode } from '../protocol/frame-codec.js';
import type { MuxStream } from './mux-stream.js';

/**
 * Copies `stream` ⇄ `socket` until both are closed, then resolves (never rejects).
 * - FIN from the peer ends the socket's writing side; the socket's 'end' sends FIN.
 * - A socket error, or the socket closing before the stream finished, resets the stream (CANCELLED).
 * - A stream reset by the peer, or a closed session, destroys the socket.
 */
export function splice(stream: MuxStream, socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    let open = 2;
    const closed = (): void => {
      if (--open === 0) resolve();
    };
    // Half close needs the socket to stay writable after its peer's FIN.
    socket.allowHalfOpen = true;
    // Frames already batch bulk data; small interactive writes must not wait for Nagle.
    socket.setNoDelay(true);

    stream.on('error', () => socket.destroy());
    stream.once('close', () => {
      // A stream that closed without finishing both ways was reset or cut off.
      if (!socket.destroyed && !(stream.readableEnded && stream.writableFinished)) socket.destroy();
      closed();
    });
    socket.on('error', () => stream.reset(ErrorCode.CANCELLED));
    socket.once('close', () => {
      if (!stream.destroyed && !(socket.readableEnded && stream.readableEnded)) stream.reset(ErrorCode.CANCELLED);
      closed();
    });

    if (stream.destroyed) socket.destroy();
    if (socket.destroyed) stream.reset(ErrorCode.CANCELLED);
    stream.pipe(socket);
    socket.pipe(stream);
  });
}
