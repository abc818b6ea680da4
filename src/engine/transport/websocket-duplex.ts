/**
 * A websocket connection (after the HTTP upgrade) as a byte Duplex: each write, or each batch of
 * writes Node hands to `_writev`, goes out as one binary message (batches over maxMessageBytes are
 * split between chunks, never inside one unless it alone is too big); received binary payloads
 * are pushed as they arrive, as views of the received chunks, and each message end is reported
 * (message-boundary.ts). Pings are answered (only the latest while the socket cannot take more), a
 * close frame ends the stream. Text frames, oversize messages, masking that does not fit the role
 * and ping floods are the peer's fault: a 'violation' listener (the mux session) gets the
 * TunnelError and may still write before it ends the stream, whose close frame then carries the
 * error's closeStatus; without one the stream is destroyed with it.
 */
import { Duplex } from 'node:stream';
import { TunnelError } from '../../errors.js';
import { messageEnds, MESSAGE_END_EVENT } from './message-boundary.js';
import {
  CLOSE_POLICY,
  CLOSE_PROTOCOL_ERROR,
  FrameParser,
  OP_BINARY,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
  encodeHeader,
  headerSize,
  maskInPlace,
  randomMaskKey,
  writeHeader,
} from './websocket-frame.js';

export interface WebSocketDuplexOptions {
  /** 'client' masks what it sends and rejects masked frames; 'server' the reverse. */
  role: 'client' | 'server';
  /** Largest message accepted, and largest sent (bigger writes are split), in bytes. Default 1 MiB. */
  maxMessageBytes?: number;
  /** Bytes already read from the socket after the handshake; parsed first. */
  head?: Buffer;
  /** How long to wait for the socket to close after the close handshake, in ms. Default 5000. */
  closeTimeoutMs?: number;
  /** Readable buffer size before the socket is paused, in bytes. Default 256 KiB. */
  readableHighWaterMark?: number;
  /** Writable buffer size before write() returns false, in bytes. Default 256 KiB. */
  writableHighWaterMark?: number;
  /**
   * While the socket cannot take a pong, only the latest ping is answered; more pings than this
   * arriving meanwhile end the connection (LIMIT_EXCEEDED, close status 1008). Default 100.
   */
  maxPingsWaiting?: number;
}

type Socket = Duplex & { setNoDelay?: (noDelay?: boolean) => unknown; writableLength: number };

const CLOSE_NORMAL = 1000;
const EMPTY = Buffer.alloc(0);
/** Unmasked messages up to this size are copied behind their header and written once, in bytes. */
const SMALL_MESSAGE = 1024;

export class WebSocketDuplex extends Duplex {
  /** Status code of the close frame the peer sent, if any. */
  closeCode?: number;
  /** Reason text of the close frame the peer sent, if any. */
  closeReason?: string;
  readonly #socket: Socket;
  readonly #role: 'client' | 'server';
  readonly #maxMessageBytes: number;
  readonly #closeTimeoutMs: number;
  readonly #parser: FrameParser;
  #closeSent = false;
  #closeReceived = false;
  /** Bytes of the write waiting for 'drain': counted by the socket already, not twice. */
  #drainWaitBytes = 0;
  #onDrain: (() => void) | null = null;
  #closeTimer: NodeJS.Timeout | null = null;
  readonly #maxPingsWaiting: number;
  /** The answer to the latest ping, waiting for the socket to drain. */
  #pong: Buffer | null = null;
  #pingsWaiting = 0;
  /** The last payload piece pushed (a message end is marked on it while it is buffered). */
  #lastPushed: Buffer | null = null;
  /** Set when the peer broke a rule: nothing more is read, and the close carries its status. */
  #violation: TunnelError | null = null;

  constructor(socket: Duplex, options: WebSocketDuplexOptions) {
    super({
      allowHalfOpen: false,
      readableHighWaterMark: options.readableHighWaterMark ?? 256 * 1024,
      writableHighWaterMark: options.writableHighWaterMark ?? 256 * 1024,
    });
    this.#socket = socket as Socket;
    this.#role = options.role;
    this.#maxMessageBytes = options.maxMessageBytes ?? 1024 * 1024;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 5000;
    this.#maxPingsWaiting = options.maxPingsWaiting ?? 100;
    this.#parser = new FrameParser(
      {
        onData: (payload) => {
          this.#lastPushed = payload;
          // Once our close is out, keep reading regardless of the reader: the peer's close answer must get through.
          if (!this.#closeReceived && !this.push(payload) && !this.#closeSent) this.#socket.pause();
        },
        onControl: (opcode, payload) => this.#onControl(opcode, payload),
        onMessageEnd: () => {
          // See message-boundary.ts: the end travels with the last buffered chunk, or is news now.
          if (this.readableLength === 0) this.emit(MESSAGE_END_EVENT);
          else if (this.#lastPushed) messageEnds.add(this.#lastPushed);
        },
      },
      { role: this.#role, maxMessageBytes: this.#maxMessageBytes },
    );
    this.#socket.setNoDelay?.(true);
    this.#socket.pause(); // resumed by _read, so the reader sets the pace
    this.#socket.on('data', this.#onSocketData);
    this.#socket.on('end', this.#onSocketEnd);
    this.#socket.on('error', this.#onSocketError);
    this.#socket.on('close', this.#onSocketClose);
    if (options.head && options.head.length > 0) this.#onSocketData(options.head);
  }

  /** Bytes written but not yet handed to the kernel: queued here plus queued in the socket. */
  get bufferedAmount(): number {
    return this.writableLength - this.#drainWaitBytes + this.#socket.writableLength;
  }

  /** Sends a ping; the peer's pong is emitted as 'pong' with its payload (at most 125 bytes). */
  ping(payload: Buffer = EMPTY): void {
    if (payload.length > 125) throw new RangeError('a websocket ping carries at most 125 bytes');
    if (!this.#closeSent && !this.destroyed) this.#sendControl(OP_PING, payload);
  }

  override _read(): void {
    if (!this.#closeReceived) this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#sendMessages([chunk], chunk.length, callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    const parts = new Array<Buffer>(chunks.length);
    let total = 0;
    for (let i = 0; i < chunks.length; i++) {
      parts[i] = chunks[i].chunk;
      total += parts[i].length;
    }
    this.#sendMessages(parts, total, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#closeSent) this.#sendClose(this.#violation?.closeStatus ?? CLOSE_NORMAL, false);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#onDrain) this.#socket.removeListener('drain', this.#onDrain);
    this.#onDrain = null;
    if (error instanceof TunnelError && error.closeStatus && !this.#closeSent && this.#socket.writable) {
      // Tell the peer why, then let the socket go once that is flushed (or the timer fires).
      this.#sendClose(error.closeStatus, true);
    } else if (error || !this.#closeSent) {
      this.#socket.destroy();
    } else {
      this.#socket.end(); // close handshake done or under way: let the socket finish by itself
      this.#armCloseTimer();
    }
    callback(error);
  }

  /** Sends `parts` as binary messages of at most maxMessageBytes each; calls back once written. */
  #sendMessages(parts: Buffer[], total: number, callback: (error?: Error | null) => void): void {
    if (this.#closeSent || this.#socket.destroyed) {
      callback(); // the session is closing: nothing more can be delivered, and that is not an error
      return;
    }
    let ok = true;
    if (total <= this.#maxMessageBytes) {
      ok = this.#writeMessage(parts, total);
    } else {
      for (const group of splitIntoMessages(parts, this.#maxMessageBytes)) ok = this.#writeMessage(group.parts, group.length);
    }
    if (ok) {
      callback();
      return;
    }
    this.#drainWaitBytes = total;
    this.#onDrain = () => {
      this.#onDrain = null;
      this.#drainWaitBytes = 0;
      callback();
    };
    this.#socket.once('drain', this.#onDrain);
  }

  /** Writes one binary message; returns the socket's write() result. */
  #writeMessage(parts: Buffer[], length: number): boolean {
    if (this.#role === 'client' || length <= SMALL_MESSAGE) return this.#socket.write(this.#buildFrame(OP_BINARY, parts, length));
    // Large unmasked payloads are not copied: header and payload go out in one corked write.
    const socket = this.#socket;
    socket.cork();
    let ok = socket.write(encodeHeader(OP_BINARY, true, length));
    for (const part of parts) ok = socket.write(part);
    socket.uncork();
    return ok;
  }

  /** One buffer with header and (masked, in the client role) payload. */
  #buildFrame(opcode: number, parts: Buffer[], length: number): Buffer {
    const key = this.#role === 'client' ? randomMaskKey() : undefined;
    const size = headerSize(length, !!key);
    const frame = Buffer.allocUnsafe(size + length);
    writeHeader(frame, 0, opcode, true, length, key);
    let at = size;
    for (const part of parts) at += part.copy(frame, at);
    if (key) maskInPlace(frame.subarray(size), key, 0);
    return frame;
  }

  #sendControl(opcode: number, payload: Buffer): void {
    this.#socket.write(this.#buildFrame(opcode, [payload], payload.length));
  }

  /** Sends a close frame; with `thenEnd` also ends the socket (we are the last to speak). */
  #sendClose(code: number, thenEnd: boolean): void {
    this.#closeSent = true;
    if (this.#socket.destroyed || !this.#socket.writable) return;
    const payload = Buffer.allocUnsafe(2);
    payload.writeUInt16BE(code, 0);
    this.#sendControl(OP_CLOSE, payload);
    if (!this.#closeReceived) this.#socket.resume();
    if (thenEnd) this.#socket.end();
    this.#armCloseTimer();
  }

  /** A peer that never closes its side must not hold the socket open forever. */
  #armCloseTimer(): void {
    if (this.#closeTimer || this.#socket.destroyed) return;
    this.#closeTimer = setTimeout(() => this.#socket.destroy(), this.#closeTimeoutMs);
    this.#closeTimer.unref?.();
  }

  #onControl(opcode: number, payload: Buffer): void {
    if (opcode === OP_PING) {
      if (this.#closeSent) return;
      // A peer that does not read gets one answer, to its latest ping, once the socket drains.
      if (this.#pong === null && !this.#socket.writableNeedDrain) return this.#sendControl(OP_PONG, payload);
      if (this.#pong === null) this.#socket.once('drain', this.#sendPong);
      else if (++this.#pingsWaiting > this.#maxPingsWaiting) {
        throw new TunnelError('LIMIT_EXCEEDED', `websocket: over ${this.#maxPingsWaiting} pings while a pong waited`, {
          closeStatus: CLOSE_POLICY,
        });
      }
      this.#pong = Buffer.from(payload);
    } else if (opcode === OP_PONG) {
      this.emit('pong', payload);
    } else if (opcode === OP_CLOSE) {
      if (payload.length === 1) throw new TunnelError('PROTOCOL_ERROR', 'websocket: close frame with a 1-byte payload', { closeStatus: CLOSE_PROTOCOL_ERROR });
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.closeReason = payload.length > 2 ? payload.toString('utf8', 2) : '';
      this.#closeReceived = true;
      this.#parser.stop();
      this.#socket.resume(); // read on to the socket's end; anything after the close frame is ignored
      if (this.#closeSent) {
        this.#socket.end();
        this.#armCloseTimer();
      } else {
        // Answer at once (RFC 6455 §5.5.1); writes still queued in this stream are dropped.
        this.#sendClose(this.closeCode === 1005 ? CLOSE_NORMAL : this.closeCode, true);
      }
      this.push(null);
    }
  }

  readonly #sendPong = (): void => {
    const pong = this.#pong;
    this.#pong = null;
    this.#pingsWaiting = 0;
    if (pong && !this.#closeSent && this.#socket.writable) this.#sendControl(OP_PONG, pong);
  };

  readonly #onSocketData = (chunk: Buffer): void => {
    if (this.#closeReceived || this.#violation || this.destroyed) return;
    try {
      this.#parser.push(chunk);
    } catch (error) {
      this.#peerBrokeRules(error as TunnelError);
    }
  };

  /**
   * The peer broke a rule. A listener for 'violation' (the mux session) may still write (say, a
   * GOAWAY with the reason) and then end this stream, whose close frame carries the error's status;
   * with no listener the connection is closed at once.
   */
  #peerBrokeRules(error: TunnelError): void {
    this.#parser.stop();
    if (!(error instanceof TunnelError) || this.listenerCount('violation') === 0) return void this.destroy(error);
    this.#violation = error;
    this.#socket.resume(); // read and drop what still comes, so the peer's writes do not stall the close
    this.emit('violation', error);
  }

  readonly #onSocketEnd = (): void => {
    // After our close, a peer that just hangs up has still finished; before it, the link was lost.
    if (!this.#closeReceived) this.destroy(this.#closeSent ? undefined : lost('the peer closed the connection without a websocket close frame'));
  };

  readonly #onSocketError = (error: Error): void => {
    if (this.#closeReceived && this.#closeSent) return; // after the close handshake, a reset is no news
    this.destroy(lost(`websocket connection failed: ${error.message}`, error));
  };

  readonly #onSocketClose = (): void => {
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
    if (this.destroyed) return;
    if (!this.#closeReceived && !this.#closeSent) {
      this.destroy(lost('the connection closed without a websocket close frame'));
    } else if (this.readableEnded || this.readableLength === 0 || !this.#closeReceived) {
      this.destroy();
    } else {
      this.once('end', () => this.destroy()); // let the reader take what was already received
    }
  };
}

function lost(message: string, cause?: Error): TunnelError {
  return new TunnelError('CONNECTION_LOST', message, { cause });
}

/**
 * Groups chunks into messages of at most `max` bytes without cutting a chunk (a mux frame must not
 * span two messages); only a single chunk bigger than `max` is cut.
 */
function splitIntoMessages(parts: Buffer[], max: number): Array<{ parts: Buffer[]; length: number }> {
  const groups: Array<{ parts: Buffer[]; length: number }> = [];
  let current: { parts: Buffer[]; length: number } = { parts: [], length: 0 };
  for (const part of parts) {
    if (current.length > 0 && current.length + part.length > max) {
      groups.push(current);
      current = { parts: [], length: 0 };
    }
    if (part.length <= max) {
      current.parts.push(part);
      current.length += part.length;
      continue;
    }
    let at = 0;
    for (; part.length - at > max; at += max) groups.push({ parts: [part.subarray(at, at + max)], length: max });
    current = { parts: [part.subarray(at)], length: part.length - at };
  }
  if (current.length > 0 || groups.length === 0) groups.push(current);
  return groups;
}
