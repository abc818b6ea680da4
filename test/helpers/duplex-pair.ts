/**
 * Two connected in-memory Duplex ends, like a socket pair. Backpressure is real: a write is not
 * acknowledged while the other end's read buffer is full, so a writer sees write() return false
 * when the other side does not read. Optional latency delays every chunk (a WAN in memory).
 */
import { Duplex } from 'node:stream';

export interface DuplexPairOptions {
  /** Delay of every chunk, in ms (0: none). With latency the link has unlimited bandwidth. */
  latencyMs?: number;
  /** Read buffer of each end, in bytes (default 64 KiB). */
  highWaterMark?: number;
}

class MemoryEnd extends Duplex {
  peer!: MemoryEnd;
  /** The callback of a write the peer has not had room for yet. */
  private held: (() => void) | null = null;
  private inFlight = 0;
  private readonly latencyMs: number;

  constructor(options: DuplexPairOptions) {
    super({ readableHighWaterMark: options.highWaterMark ?? 65536, writableHighWaterMark: options.highWaterMark ?? 65536 });
    this.latencyMs = options.latencyMs ?? 0;
    if (this.latencyMs > 0) {
      // Like a websocket: bytes sent but not yet arrived count as buffered.
      Object.defineProperty(this, 'bufferedAmount', { get: () => this.writableLength + this.inFlight });
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.latencyMs === 0) return this.deliver(chunk, () => callback());
    this.inFlight += chunk.length;
    setTimeout(() => {
      this.inFlight -= chunk.length;
      this.deliver(chunk, () => {});
    }, this.latencyMs);
    callback();
  }

  private deliver(chunk: Buffer, acknowledge: () => void): void {
    if (this.peer.destroyed) return acknowledge();
    if (this.peer.push(chunk)) acknowledge();
    else this.held = acknowledge;
  }

  /** The other end wants more: acknowledge the write it had no room for. */
  release(): void {
    const held = this.held;
    this.held = null;
    held?.();
  }

  override _read(): void {
    this.peer.release();
  }

  override _final(callback: (err?: Error | null) => void): void {
    const end = () => {
      if (!this.peer.destroyed) this.peer.push(null);
    };
    if (this.latencyMs > 0) setTimeout(end, this.latencyMs);
    else end();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.release();
    // Like a connection reset: the other end goes too.
    setImmediate(() => this.peer.destroy());
    callback(err);
  }
}

/** Returns two connected ends: what one writes, the other reads. */
export function duplexPair(options: DuplexPairOptions = {}): [Duplex, Duplex] {
  const a = new MemoryEnd(options);
  const b = new MemoryEnd(options);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** A pair in the shape runMuxSuite expects. */
export async function makeMemoryPair(options: DuplexPairOptions = {}): Promise<{ a: Duplex; b: Duplex; close(): Promise<void> }> {
  const [a, b] = duplexPair(options);
  return {
    a,
    b,
    async close() {
      a.destroy();
      b.destroy();
    },
  };
}
