/**
 * One stream of a mux session (docs/PROTOCOL.md sections 5 and 7) as a Node Duplex: writes become
 * DATA frames sent within the peer's credit, received DATA is readable, end() sends FIN, and
 * reading hands bytes on, which returns credit to the peer.
 */
import { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { TunnelError } from '../../errors.js';
import {
  ErrorCode,
  FrameFlag,
  FrameType,
  HEADER_SIZE,
  MAX_CREDIT,
  MAX_DATA_PAYLOAD,
  encodeCodeReason,
  encodeFrame,
  encodeHeader,
  errorCodeName,
} from '../protocol/frame-codec.js';
import { ReceiveWindow } from './receive-window.js';

/** What a stream needs from its session. */
export interface StreamHost {
  /** Queues a control frame (WINDOW, RESET); control frames go before DATA. */
  sendFrame(frame: Buffer): void;
  /** The stream may have DATA or FIN to send. */
  wake(stream: MuxStream): void;
  /** The stream was destroyed: forget it. */
  detach(stream: MuxStream): void;
  /** The bytes buffered for reading on some stream changed by `delta`. */
  adjustBuffered(delta: number): void;
  /**
   * Round-trip time for window growth, in ms, undefined while unknown: the lowest PING time seen,
   * since PINGs queued behind bulk data would otherwise feed the window's own queueing back into it.
   */
  readonly baseRttMs: number | undefined;
  /** Changes whenever DATA for a different stream than the last one arrives (for window sizing). */
  readonly interleavings: number;
}

/** Bytes a stream takes from its writer before write() returns false (256 KiB). */
const WRITE_HIGH_WATER = 256 * 1024;

/**
 * A multiplexed stream. Create it with MuxSession.openStream, or receive it in the session's
 * 'stream' event. When the peer resets it, it emits 'reset' (code, reason) and is then destroyed
 * with a TunnelError whose code is `STREAM_RESET` (emitted as 'error' only when something listens
 * for 'error'; otherwise it just closes). When its session closes it is destroyed without error.
 */
export class MuxStream extends Duplex {
  /** Stream id: even when the server opened it, odd for the client. */
  readonly id: number;
  /** The OPEN payload (for TCP mode: port and remote address). */
  readonly meta: Record<string, unknown>;

  /** Whether the session's round-robin queue holds this stream (the session maintains it). */
  queued = false;

  readonly #host: StreamHost;
  readonly #window: ReceiveWindow;
  #pushed = 0;
  #bufferedCounted = 0;
  #finReceived = false;
  #finSent = false;
  #finPending = false;
  #resetDone = false;

  #sendCredit: number;
  #sendChunks: Buffer[] = [];
  #sendBytes = 0;
  #writeCallback: ((err?: Error | null) => void) | null = null;
  #finalCallback: ((err?: Error | null) => void) | null = null;

  /** @internal Streams are made by MuxSession. */
  constructor(host: StreamHost, id: number, meta: Record<string, unknown>, initialWindow: number, maxWindow: number) {
    super({ allowHalfOpen: true, writableHighWaterMark: WRITE_HIGH_WATER });
    this.#host = host;
    this.id = id;
    this.meta = meta;
    this.#window = new ReceiveWindow(initialWindow, maxWindow);
    this.#sendCredit = initialWindow;
  }

  /** Sends RESET with `code` (see ErrorCode) and destroys the stream locally. No-op once destroyed. */
  reset(code: number, reason?: string): void {
    if (this.destroyed) return;
    if (!this.#resetDone) {
      this.#resetDone = true;
      this.#host.sendFrame(encodeFrame(FrameType.RESET, 0, this.id, encodeCodeReason(code, reason)));
    }
    this.destroy();
  }

  /** True when the stream has a DATA frame (within credit) or a FIN ready to send. */
  get sendable(): boolean {
    return this.#sendBytes > 0 ? this.#sendCredit > 0 : this.#finPending;
  }

  /**
   * Moves one DATA frame of at most `room` bytes (header included) into `batch`. Write callbacks
   * that became due are appended to `done`, for the caller to run after the batch is written.
   * Returns the bytes added.
   */
  takeFrame(batch: Buffer[], room: number, done: Array<(err?: Error | null) => void>): number {
    const length = Math.max(0, Math.min(this.#sendBytes, this.#sendCredit, MAX_DATA_PAYLOAD, room - HEADER_SIZE));
    const fin = this.#finPending && length === this.#sendBytes;
    if (length === 0 && !fin) return 0;
    batch.push(encodeHeader(FrameType.DATA, fin ? FrameFlag.FIN : 0, this.id, length));
    let left = length;
    while (left > 0) {
      const chunk = this.#sendChunks[0];
      if (chunk.length <= left) {
        batch.push(chunk);
        this.#sendChunks.shift();
        left -= chunk.length;
      } else {
        batch.push(chunk.subarray(0, left));
        this.#sendChunks[0] = chunk.subarray(left);
        left = 0;
      }
    }
    this.#sendBytes -= length;
    this.#sendCredit -= length;
    if (this.#sendBytes === 0 && this.#writeCallback) {
      done.push(this.#writeCallback);
      this.#writeCallback = null;
    }
    if (fin) {
      this.#finPending = false;
      this.#finSent = true;
      if (this.#finalCallback) done.push(this.#finalCallback);
      this.#finalCallback = null;
    }
    return HEADER_SIZE + length;
  }

  /** @internal A DATA frame arrived for this stream. */
  receiveData(payload: Buffer, fin: boolean): void {
    if (this.#finReceived) return this.reset(ErrorCode.PROTOCOL_ERROR, 'DATA after FIN');
    const length = payload.length;
    if (length > 0) {
      if (!this.#window.receive(length)) return this.reset(ErrorCode.FLOW_CONTROL, 'DATA beyond credit');
      // A view pins its whole received chunk; copy it when it will sit in the read buffer.
      const willBuffer = this.readableFlowing !== true || this.readableLength > 0;
      if (willBuffer && payload.buffer.byteLength > 2 * length) payload = Buffer.from(payload);
      this.#pushed += length;
      this.push(payload);
    }
    if (fin) {
      this.#finReceived = true;
      this.push(null);
    }
    this.#settle();
  }

  /** @internal A WINDOW frame arrived for this stream. */
  receiveWindow(increment: number): void {
    if (this.#sendCredit + increment > MAX_CREDIT) {
      throw new TunnelError('PROTOCOL_ERROR', `credit over 2^31-1 on stream ${this.id}`);
    }
    this.#sendCredit += increment;
    this.#host.wake(this);
  }

  /** @internal The peer reset this stream. */
  receiveReset(code: number, reason: string): void {
    if (this.destroyed) return;
    this.#resetDone = true;
    this.emit('reset', code, reason);
    // A reset is the peer's doing, not a bug here: with nobody listening for errors (say, a stream
    // still waiting for its upstream to connect), an 'error' event would crash the process.
    if (this.listenerCount('error') === 0) return void this.destroy();
    const name = errorCodeName(code);
    this.destroy(new TunnelError('STREAM_RESET', `stream ${this.id} reset by peer: ${name}${reason ? ` (${reason})` : ''}`));
  }

  /** Every path by which buffered bytes leave goes through read() (flowing mode included). */
  override read(size?: number): any {
    const chunk = super.read(size);
    this.#settle();
    return chunk;
  }

  /** Reports buffered bytes to the session and returns credit for bytes handed on (section 7). */
  #settle(): void {
    if (this.destroyed) return;
    const buffered = this.readableLength;
    if (buffered !== this.#bufferedCounted) {
      this.#host.adjustBuffered(buffered - this.#bufferedCounted);
      this.#bufferedCounted = buffered;
    }
    if (this.#finReceived || this.#resetDone || !this.#window.due(this.#pushed - buffered)) return;
    const increment = this.#window.grant(this.#pushed - buffered, performance.now(), this.#host.baseRttMs, this.#host.interleavings);
    if (increment > 0) {
      const payload = Buffer.allocUnsafe(4);
      payload.writeUInt32BE(increment, 0);
      this.#host.sendFrame(encodeFrame(FrameType.WINDOW, 0, this.id, payload));
    }
  }

  /** Current receive window in bytes (grows for long round trips). */
  get receiveWindowSize(): number {
    return this.#window.size;
  }

  override _read(): void {
    // Data is pushed as frames arrive; credit is returned from read().
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (chunk.length === 0) return callback();
    this.#sendChunks.push(chunk);
    this.#sendBytes += chunk.length;
    // Held until the bytes are framed, so a stream without credit stops its writer.
    this.#writeCallback = callback;
    this.#host.wake(this);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void): void {
    for (const { chunk } of chunks) {
      if (chunk.length === 0) continue;
      this.#sendChunks.push(chunk);
      this.#sendBytes += chunk.length;
    }
    if (this.#sendBytes === 0) return callback();
    this.#writeCallback = callback;
    this.#host.wake(this);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#finPending = true;
    this.#finalCallback = callback;
    this.#host.wake(this);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.#resetDone && !(this.#finSent && this.#finReceived)) {
      this.#resetDone = true;
      this.#host.sendFrame(encodeFrame(FrameType.RESET, 0, this.id, encodeCodeReason(ErrorCode.CANCELLED)));
    }
    this.#sendChunks = [];
    this.#sendBytes = 0;
    this.#finPending = false;
    this.#writeCallback = null;
    this.#finalCallback = null;
    if (this.#bufferedCounted !== 0) this.#host.adjustBuffered(-this.#bufferedCounted);
    this.#bufferedCounted = 0;
    this.#host.detach(this);
    callback(err);
  }
}
