/**
 * The sending side of a session (docs/design/window-sizing.md, "Fairness"): control frames first,
 * then one DATA frame per waiting stream in round robin, packed into one transport write per batch
 * and written only while the transport's buffered amount is below the high-water mark. At most one
 * PING answer waits (PROTOCOL.md sections 8 and 13).
 */
import type { Duplex } from 'node:stream';
import { HEADER_SIZE } from '../protocol/frame-codec.js';
import type { MuxStream } from './mux-stream.js';

/**
 * Most bytes per transport write (256 KiB). A write becomes one websocket message (limit 1 MiB);
 * smaller batches keep an interactive frame from waiting behind a large one.
 */
export const MAX_BATCH = 256 * 1024;

/** How often to look at the transport's buffered amount when it will not emit 'drain', in ms. */
const POLL_MS = 1;

type Callback = (err?: Error | null) => void;

export class SendScheduler {
  /** Bytes written to the transport. */
  bytesOut = 0;
  #control: Buffer[] = [];
  #controlBytes = 0;
  /** The one PING answer waiting to be written: a newer PING replaces it (PROTOCOL.md section 14). */
  #pong: Buffer | null = null;
  #ready: Array<MuxStream | undefined> = [];
  #readyHead = 0;
  #scheduled = false;
  #blocked = false;
  #flushing = false;
  #stopped = false;
  #pollTimer: NodeJS.Timeout | null = null;

  /**
   * @param transport where frames go
   * @param highWaterMark write only while the transport buffers less than this, in bytes
   */
  readonly #transport: Duplex;
  readonly #highWaterMark: number;

  constructor(transport: Duplex, highWaterMark: number) {
    this.#transport = transport;
    this.#highWaterMark = highWaterMark;
    transport.on('drain', this.#unblock);
  }

  /** Queues a whole control frame; control frames keep their order and go before DATA. */
  sendFrame(frame: Buffer): void {
    if (this.#stopped) return;
    this.#control.push(frame);
    this.#controlBytes += frame.length;
    this.#schedule();
  }

  /**
   * Queues the answer to a PING, replacing one still waiting; returns true when it replaced one
   * (the peer sent PINGs faster than this side could answer).
   */
  sendPong(frame: Buffer): boolean {
    if (this.#stopped) return false;
    const replaced = this.#pong !== null;
    this.#pong = frame;
    this.#schedule();
    return replaced;
  }

  /** Queues `stream` for a DATA frame if it has something to send and is not queued yet. */
  wake(stream: MuxStream): void {
    if (this.#stopped || stream.queued || !stream.sendable) return;
    stream.queued = true;
    this.#ready.push(stream);
    this.#schedule();
  }

  /** Bytes the transport holds: a websocket's bufferedAmount when it has one, else writableLength. */
  transportBuffered(): number {
    const amount = (this.#transport as { bufferedAmount?: unknown }).bufferedAmount;
    return typeof amount === 'number' ? amount : this.#transport.writableLength;
  }

  /** Control bytes not yet written (DATA waits in its stream). */
  get queuedControl(): number {
    return this.#controlBytes + (this.#pong ? this.#pong.length : 0);
  }

  /** Control frames not yet written, the PING answer not counted. */
  get queuedFrames(): number {
    return this.#control.length;
  }

  /** Writes the queued control frames at once, ignoring the high-water mark (used when closing). */
  flushControl(): void {
    if (this.#stopped || !this.#transport.writable) return;
    while (this.#control.length > 0 || this.#pong) {
      const batch: Buffer[] = [];
      let size = this.#takePong(batch);
      while (this.#control.length > 0 && (size === 0 || size + this.#control[0].length <= MAX_BATCH)) {
        const frame = this.#control.shift()!;
        batch.push(frame);
        size += frame.length;
      }
      this.#controlBytes -= size;
      this.#write(batch, size);
    }
  }

  /** Stops for good: nothing more is written. */
  stop(): void {
    this.#stopped = true;
    this.#transport.off('drain', this.#unblock);
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    this.#pollTimer = null;
    for (let i = this.#readyHead; i < this.#ready.length; i++) this.#ready[i]!.queued = false;
    this.#ready = [];
    this.#control = [];
    this.#controlBytes = 0;
    this.#pong = null;
  }

  #takePong(batch: Buffer[]): number {
    const pong = this.#pong;
    if (!pong) return 0;
    this.#pong = null;
    batch.push(pong);
    return pong.length;
  }

  #schedule(): void {
    if (this.#scheduled || this.#blocked) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: everything queued during one poll phase (many sockets'
    // reads) leaves in one write.
    setImmediate(this.#flush);
  }

  readonly #unblock = (): void => {
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    this.#pollTimer = null;
    if (!this.#blocked) return;
    this.#blocked = false;
    this.#flush();
  };

  #block(): void {
    this.#blocked = true;
    // A transport whose own buffer did not fill (write() never returned false) will not emit
    // 'drain' when its bufferedAmount falls, so look again soon.
    if (!this.#transport.writableNeedDrain && !this.#pollTimer) this.#pollTimer = setTimeout(this.#unblock, POLL_MS);
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    if (this.#stopped || this.#flushing || this.#blocked) return;
    this.#flushing = true;
    const done: Callback[] = [];
    try {
      for (;;) {
        if (!this.#transport.writable) break; // the session closes on the transport's 'close'
        // Batches go out as separate chunks (a DATA header, then views of its payload), which the
        // transport sends as one message per _writev: what waits in it plus one batch must stay
        // within a message (1 MiB), so that a message is never cut between a header and its payload.
        if (this.transportBuffered() >= this.#highWaterMark || this.#transport.writableLength > 3 * MAX_BATCH) {
          this.#block();
          break;
        }
        const batch: Buffer[] = [];
        let size = this.#takePong(batch);
        while (this.#control.length > 0 && (size === 0 || size + this.#control[0].length <= MAX_BATCH)) {
          const frame = this.#control.shift()!;
          batch.push(frame);
          size += frame.length;
        }
        this.#controlBytes -= size;
        if (this.#control.length === 0) size += this.#takeData(batch, size, done);
        if (size === 0) break;
        this.#write(batch, size);
        if (this.#stopped) break;
        // Writers waiting on these frames may write again now (re-entering wake()).
        for (const callback of done) callback();
        done.length = 0;
      }
    } finally {
      this.#flushing = false;
    }
  };

  /** Round robin over waiting streams, one DATA frame each per turn, until the batch is full. */
  #takeData(batch: Buffer[], size: number, done: Callback[]): number {
    const start = size;
    while (this.#readyHead < this.#ready.length && MAX_BATCH - size > HEADER_SIZE) {
      const stream = this.#ready[this.#readyHead]!;
      this.#ready[this.#readyHead++] = undefined;
      stream.queued = false;
      if (stream.destroyed) continue;
      size += stream.takeFrame(batch, MAX_BATCH - size, done);
      if (stream.sendable) {
        stream.queued = true;
        this.#ready.push(stream);
      }
    }
    if (this.#readyHead === this.#ready.length) {
      this.#ready.length = 0;
      this.#readyHead = 0;
    } else if (this.#readyHead > 1024) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
    return size - start;
  }

  #write(batch: Buffer[], size: number): void {
    if (!this.#transport.writable) return;
    this.bytesOut += size;
    // Corked: the transport gets the batch in one _writev, without copying it together.
    const transport = this.#transport;
    transport.cork();
    for (const chunk of batch) transport.write(chunk);
    transport.uncork();
  }
}
