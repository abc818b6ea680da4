/**
 * Hands a public connection to a client session, and to another one when the first says nothing
 * within the open limit (PROTOCOL.md §13): one frozen client must not swallow its share of the
 * traffic until keepalive notices it. Until the client answers, what the public peer sent is kept
 * (up to HOLD_BYTES; reading pauses beyond) so that it can be sent again to the next client.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { MuxSession } from '../mux/mux-session.js';
import type { MuxStream } from '../mux/mux-stream.js';
import { splice } from '../mux/splice.js';
import { ErrorCode } from '../protocol/frame-codec.js';

/** Bytes of a public connection kept for a retry while its client has not answered. */
const HOLD_BYTES = 64 * 1024;

/** Whether a session's client is heard from: any bytes count as an answer. */
export class Liveness {
  /** Set when an OPEN went unanswered past the open limit; cleared by anything heard. */
  slow = false;
  readonly #waiters = new Set<() => void>();
  #pinged = false;

  constructor(
    readonly mux: MuxSession,
    transport: Duplex,
  ) {
    transport.on('data', () => {
      this.slow = this.#pinged = false;
      for (const w of this.#waiters) w();
      this.#waiters.clear();
    });
  }

  /**
   * Calls `fn` once, the next time anything arrives, and makes sure something will: a PING goes
   * out unless one is still unanswered. Returns a function that cancels the call.
   */
  onHeard(fn: () => void): () => void {
    if (!this.#pinged) {
      this.#pinged = true;
      this.mux.ping().catch(() => {});
    }
    this.#waiters.add(fn);
    return () => this.#waiters.delete(fn);
  }
}

/** A public connection on its way to a client: what it sent so far and who was tried. */
interface Attempts<S> {
  held: Buffer[];
  bytes: number;
  ended: boolean;
  tried: S[];
}

/**
 * Opens a stream for `socket` on `s` and joins the two once `s` is heard from. After `openMs`
 * without a word `s` is marked slow and, if `next` names another session, the connection moves
 * there; a session that closes meanwhile passes it on as well. Without another session it stays.
 */
export function forwardPublic<S extends { live: Liveness }>(
  port: number,
  socket: Socket,
  s: S,
  next: (tried: S[]) => S | undefined,
  openMs: number,
  p: Attempts<S> = { held: [], bytes: 0, ended: false, tried: [] },
): void {
  p.tried.push(s);
  const moveOn = (to = next(p.tried)): void => void (to ? forwardPublic(port, socket, to, next, openMs, p) : socket.destroy());
  let stream: MuxStream;
  try {
    stream = s.live.mux.openStream({ port, remote: `${socket.remoteAddress}:${socket.remotePort}` });
  } catch {
    return moveOn(); // closed or going away
  }
  for (const b of p.held) stream.write(b);
  if (p.ended) stream.end();
  const onData = (b: Buffer) => {
    p.held.push(b);
    stream.write(b);
    if ((p.bytes += b.length) > HOLD_BYTES) socket.pause();
  };
  const onEnd = () => ((p.ended = true), stream.end());
  const onClose = () => (stop(), stream.reset(ErrorCode.CANCELLED));
  // reset by the client (it answered) or lost with its session (try the next)
  const onStreamClose = () => (stop(), s.live.mux.closed ? moveOn() : socket.destroy());
  const timer = setTimeout(() => {
    s.live.slow = true;
    const to = next(p.tried);
    if (!to) return;
    stop();
    stream.reset(ErrorCode.CANCELLED, 'no answer in time');
    moveOn(to);
  }, openMs);
  const cancel = s.live.onHeard(() => (stop(), void splice(stream, socket)));
  const stop = () => {
    clearTimeout(timer);
    cancel();
    socket.off('data', onData).off('end', onEnd).off('close', onClose);
    stream.off('close', onStreamClose);
  };
  socket.on('data', onData).on('end', onEnd).on('close', onClose).on('error', () => {});
  stream.on('close', onStreamClose).on('error', () => {});
}
