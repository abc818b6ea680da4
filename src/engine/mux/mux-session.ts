/**
 * A multiplexed session over any Duplex byte stream (docs/PROTOCOL.md sections 5, 7, 8, 10):
 * streams, credit-based flow control with window growth, memory bounds, keepalive and GOAWAY.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { TunnelError } from '../../errors.js';
import { silentLogger, type Logger } from '../log.js';
import {
  ErrorCode,
  FrameDecoder,
  FrameFlag,
  FrameType,
  INITIAL_WINDOW,
  MAX_FRAME_PAYLOAD,
  MAX_WINDOW,
  decodeCodeReason,
  encodeCodeReason,
  encodeFrame,
  errorCodeName,
} from '../protocol/frame-codec.js';
import { messageEnds, MESSAGE_END_EVENT } from '../transport/message-boundary.js';
import { Keepalive } from './keepalive.js';
import { MuxStream, type StreamHost } from './mux-stream.js';
import { SendScheduler } from './send-scheduler.js';

export interface MuxSessionOptions {
  /** The server opens even stream ids, the client odd ones. */
  role: 'server' | 'client';
  /** Initial per-stream window in bytes; must match the peer's. Default 256 KiB. */
  initialWindow?: number;
  /** Largest window a stream grows to for long round trips, in bytes. Default 16 MiB. */
  maxWindow?: number;
  /** Stop reading the transport while more than this many received bytes wait in streams. Default 64 MiB. */
  sessionBudget?: number;
  /** Write to the transport only while it buffers less than this, in bytes. Default 1 MiB. */
  highWaterMark?: number;
  /** Time between PINGs, in ms. Default 10 000; 0 turns keepalive (pings and timeout) off. */
  keepaliveIntervalMs?: number;
  /** Close when nothing arrives for this long, in ms. Default 30 000. */
  keepaliveTimeoutMs?: number;
  /** GOAWAY LIMIT_EXCEEDED when more control frames than this wait to be written. Default 10 000. */
  maxQueuedControl?: number;
  /** GOAWAY LIMIT_EXCEEDED when more PINGs than this arrive while an answer waits. Default 100. */
  maxPingsWaiting?: number;
  /**
   * Streams the peer may open per second (and at once, as a burst); more is GOAWAY LIMIT_EXCEEDED.
   * Default unlimited: a client takes the streams its server opens, one per public connection, at
   * the rate the public makes them. TunnelServer sets 100 (clients open no streams in TCP mode).
   */
  maxOpenRate?: number;
  logger?: Logger;
}

/** Own PINGs remembered while unanswered; older ones are forgotten. */
const MAX_PINGS_OUT = 64;

/** Errors that are the peer's doing, with the GOAWAY code that tells it so. */
const PEER_FAULTS = { PROTOCOL_ERROR: ErrorCode.PROTOCOL_ERROR, LIMIT_EXCEEDED: ErrorCode.LIMIT_EXCEEDED } as const;

interface PendingPing {
  sentAt: number;
  resolve?: (ms: number) => void;
  reject?: (err: Error) => void;
}

/**
 * One end of a multiplexed tunnel session.
 *
 * Events: 'stream' (stream: MuxStream) when the peer opened one; 'control' (message) for each
 * CONTROL frame; 'goaway' (code, reason) when the peer sends GOAWAY; 'close' (err?: TunnelError)
 * exactly once, after which every stream is destroyed.
 */
export class MuxSession extends EventEmitter implements StreamHost {
  readonly #transport: Duplex;
  readonly #role: 'server' | 'client';
  readonly #initialWindow: number;
  readonly #maxWindow: number;
  readonly #sessionBudget: number;
  readonly #log: Logger;
  readonly #scheduler: SendScheduler;
  readonly #decoder: FrameDecoder;
  readonly #keepalive: Keepalive | null;
  readonly #streams = new Map<number, MuxStream>();
  #nextLocalId: number;
  #lastPeerId = 0;
  readonly #pingNonce = randomBytes(4).readUInt32BE(0);
  #pingSeq = 0;
  readonly #pings = new Map<number, PendingPing>();
  #srtt: number | undefined;
  #minRtt: number | undefined;
  #bufferedIn = 0;
  #lastDataStreamId = 0;
  #dataInterleavings = 0;
  #readPaused = false;
  #goAwaySent = false;
  #peerGoAway: { code: number; reason: string } | null = null;
  #isClosed = false;
  #teardownTimer: NodeJS.Timeout | null = null;
  #bytesIn = 0;
  readonly #maxQueuedControl: number;
  readonly #maxPingsWaiting: number;
  #pingsWaiting = 0;
  readonly #maxOpenRate: number;
  #openTokens: number;
  #openTokensAt = performance.now();

  constructor(transport: Duplex, options: MuxSessionOptions) {
    super();
    this.#transport = transport;
    this.#role = options.role;
    this.#initialWindow = options.initialWindow ?? INITIAL_WINDOW;
    this.#maxWindow = Math.max(this.#initialWindow, options.maxWindow ?? MAX_WINDOW);
    this.#sessionBudget = options.sessionBudget ?? 64 * 1024 * 1024;
    this.#log = options.logger ?? silentLogger;
    this.#nextLocalId = this.#role === 'server' ? 2 : 1;
    this.#scheduler = new SendScheduler(transport, options.highWaterMark ?? 1024 * 1024);
    this.#decoder = new FrameDecoder(this.#onFrame);
    this.#maxQueuedControl = options.maxQueuedControl ?? 10_000;
    this.#maxPingsWaiting = options.maxPingsWaiting ?? 100;
    this.#maxOpenRate = options.maxOpenRate ?? Infinity;
    this.#openTokens = this.#maxOpenRate;

    transport.on('data', this.#onTransportData);
    // A transport that knows message ends (websocket) reports them: a frame must not span two.
    transport.on(MESSAGE_END_EVENT, this.#onMessageEnd);
    // A transport that found the peer misbehaving lets this side say so with GOAWAY first.
    transport.on('violation', (err: unknown) => this.#fail(err));
    transport.on('end', this.#onTransportEnd);
    transport.on('close', this.#onTransportClose);
    transport.on('error', this.#onTransportError);

    const interval = options.keepaliveIntervalMs ?? 10_000;
    this.#keepalive =
      interval > 0
        ? new Keepalive(interval, options.keepaliveTimeoutMs ?? 30_000, () => this.#sendPing(), this.#onKeepaliveTimeout)
        : null;
  }

  /** True once the session closed (then every stream is destroyed). */
  get closed(): boolean {
    return this.#isClosed;
  }

  /** Smoothed PING round-trip time in ms; undefined before the first answer. */
  get rttMs(): number | undefined {
    return this.#srtt;
  }

  /** @internal Lowest PING round trip seen, in ms: the link's own delay, without queueing (for window growth). */
  get baseRttMs(): number | undefined {
    return this.#minRtt;
  }

  /** @internal Changes whenever DATA for another stream than the last arrives. */
  get interleavings(): number {
    return this.#dataInterleavings;
  }

  /** Open streams. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Counters: bytes in and out of the transport, open streams, received bytes not yet read, bytes waiting to be sent. */
  stats(): { bytesIn: number; bytesOut: number; streams: number; bufferedIn: number; bufferedOut: number } {
    let pending = this.#scheduler.queuedControl + this.#scheduler.transportBuffered();
    for (const stream of this.#streams.values()) pending += stream.writableLength;
    return { bytesIn: this.#bytesIn, bytesOut: this.#scheduler.bytesOut, streams: this.#streams.size, bufferedIn: this.#bufferedIn, bufferedOut: pending };
  }

  /**
   * Opens a stream: sends OPEN with `meta` as JSON. Data written at once follows the OPEN.
   * Throws TunnelError `SESSION_CLOSED`, `GOAWAY` (after GOAWAY either way) or `FRAME_TOO_LARGE`.
   */
  openStream(meta: Record<string, unknown>): MuxStream {
    if (this.#isClosed) throw new TunnelError('SESSION_CLOSED', 'the session is closed');
    if (this.#goAwaySent || this.#peerGoAway) throw new TunnelError('GOAWAY', 'the session is going away');
    const payload = Buffer.from(JSON.stringify(meta), 'utf8');
    if (payload.length > MAX_FRAME_PAYLOAD) throw new TunnelError('FRAME_TOO_LARGE', 'stream metadata is too large');
    const id = this.#nextLocalId;
    this.#nextLocalId += 2;
    const stream = new MuxStream(this, id, meta, this.#initialWindow, this.#maxWindow);
    this.#streams.set(id, stream);
    this.sendFrame(encodeFrame(FrameType.OPEN, 0, id, payload));
    return stream;
  }

  /** Sends a CONTROL message (section 6). Dropped when the session is closed. */
  sendControl(message: { type: string; [k: string]: unknown }): void {
    if (this.#isClosed) return;
    const payload = Buffer.from(JSON.stringify(message), 'utf8');
    if (payload.length > MAX_FRAME_PAYLOAD) throw new TunnelError('FRAME_TOO_LARGE', `control message ${message.type} is too large`);
    this.sendFrame(encodeFrame(FrameType.CONTROL, 0, 0, payload));
  }

  /** Sends a PING; resolves with the round trip in ms, rejects with `SESSION_CLOSED` if the session closes first. */
  ping(): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.#isClosed) reject(new TunnelError('SESSION_CLOSED', 'the session is closed'));
      else this.#sendPing(resolve, reject);
    });
  }

  /** Sends GOAWAY (once): this side opens no new streams and will close soon. */
  goAway(code: number, reason?: string): void {
    if (this.#isClosed || this.#goAwaySent) return;
    this.#goAwaySent = true;
    this.#scheduler.sendFrame(encodeFrame(FrameType.GOAWAY, 0, 0, encodeCodeReason(code, reason)));
  }

  /**
   * Closes the session (idempotent): writes any queued control frames (such as GOAWAY), destroys
   * every stream (they emit 'close' without 'end'), ends the transport and emits 'close' with `error`.
   */
  close(error?: TunnelError): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#keepalive?.stop();
    this.#transport.resume(); // drain (and ignore) what still arrives, so the transport can finish
    this.#scheduler.flushControl();
    this.#scheduler.stop();
    const closedError = new TunnelError('SESSION_CLOSED', error ? `session closed: ${error.message}` : 'session closed', { cause: error });
    for (const pending of this.#pings.values()) pending.reject?.(closedError);
    this.#pings.clear();
    // Without an error: a stream nobody watches for errors must not crash the process.
    for (const stream of [...this.#streams.values()]) stream.destroy();
    this.#streams.clear();
    if (error?.code === 'KEEPALIVE_TIMEOUT' || this.#transport.destroyed) this.#transport.destroy();
    else {
      // Let the transport flush and close in order; a peer that never finishes gets cut off.
      this.#transport.end();
      this.#teardownTimer = setTimeout(() => this.#transport.destroy(), 2000);
      this.#teardownTimer.unref();
    }
    if (error) this.#log.debug(`mux session closed: ${error.code} ${error.message}`);
    this.emit('close', error);
  }

  // StreamHost: used by MuxStream.

  /**
   * @internal Queues a control frame. A peer that does not read lets them pile up: past
   * maxQueuedControl the session ends with GOAWAY LIMIT_EXCEEDED.
   */
  sendFrame(frame: Buffer): void {
    if (this.#isClosed) return;
    this.#scheduler.sendFrame(frame);
    if (this.#scheduler.queuedFrames > this.#maxQueuedControl) {
      this.#fail(new TunnelError('LIMIT_EXCEEDED', `over ${this.#maxQueuedControl} control frames queued: peer not reading`));
    }
  }

  /** @internal */
  wake(stream: MuxStream): void {
    this.#scheduler.wake(stream);
  }

  /** @internal */
  detach(stream: MuxStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
  }

  /** @internal Applies the session budget: stop reading the transport while too much waits in streams. */
  adjustBuffered(delta: number): void {
    this.#bufferedIn += delta;
    if (!this.#readPaused && this.#bufferedIn > this.#sessionBudget) {
      this.#readPaused = true;
      this.#keepalive?.suspend();
      this.#transport.pause();
    } else if (this.#readPaused && this.#bufferedIn <= this.#sessionBudget) {
      this.#readPaused = false;
      this.#keepalive?.resume();
      if (!this.#isClosed) this.#transport.resume();
    }
  }

  #sendPing(resolve?: (ms: number) => void, reject?: (err: Error) => void): void {
    const seq = (this.#pingSeq = (this.#pingSeq + 1) >>> 0);
    const payload = Buffer.allocUnsafe(8);
    payload.writeUInt32BE(this.#pingNonce, 0);
    payload.writeUInt32BE(seq, 4);
    this.#pings.set(seq, { sentAt: performance.now(), resolve, reject });
    // A peer that answers no PING but sends other frames must not grow the table.
    if (this.#pings.size > MAX_PINGS_OUT) {
      const [oldest, pending] = this.#pings.entries().next().value as [number, PendingPing];
      this.#pings.delete(oldest);
      pending.reject?.(new TunnelError('KEEPALIVE_TIMEOUT', 'no answer'));
    }
    this.#scheduler.sendFrame(encodeFrame(FrameType.PING, 0, 0, payload));
  }

  readonly #onTransportData = (chunk: Buffer): void => {
    if (this.#isClosed) return;
    this.#bytesIn += chunk.length;
    this.#keepalive?.received();
    try {
      if (typeof chunk === 'string') throw new TunnelError('PROTOCOL_ERROR', 'the transport delivered text, not bytes');
      this.#decoder.push(chunk);
      if (messageEnds.has(chunk)) this.#onMessageEnd();
    } catch (err) {
      this.#fail(err);
    }
  };

  /** PROTOCOL.md section 2.3: a message holds whole frames only. */
  readonly #onMessageEnd = (): void => {
    if (!this.#isClosed && !this.#decoder.idle) this.#fail(new TunnelError('PROTOCOL_ERROR', 'frame cut at a message end'));
  };

  readonly #onFrame = (type: number, flags: number, id: number, payload: Buffer): void => {
    if (this.#isClosed) return;
    switch (type) {
      case FrameType.DATA: {
        if (id !== this.#lastDataStreamId) {
          this.#lastDataStreamId = id;
          this.#dataInterleavings++;
        }
        const stream = this.#streams.get(id);
        if (stream) stream.receiveData(payload, (flags & FrameFlag.FIN) !== 0);
        else this.#checkEnded(id, 'DATA');
        break;
      }
      case FrameType.OPEN:
        this.#onOpen(id, payload);
        break;
      case FrameType.WINDOW: {
        const stream = this.#streams.get(id);
        if (stream) stream.receiveWindow(payload.readUInt32BE(0));
        else this.#checkEnded(id, 'WINDOW');
        break;
      }
      case FrameType.RESET: {
        const stream = this.#streams.get(id);
        if (!stream) return this.#checkEnded(id, 'RESET');
        const { code, reason } = decodeCodeReason(payload);
        stream.receiveReset(code, reason);
        break;
      }
      case FrameType.PING:
        if (flags & FrameFlag.ACK) this.#onPong(payload);
        else if (!this.#scheduler.sendPong(encodeFrame(FrameType.PING, FrameFlag.ACK, 0, payload))) this.#pingsWaiting = 0;
        else if (++this.#pingsWaiting > this.#maxPingsWaiting) {
          throw new TunnelError('LIMIT_EXCEEDED', `over ${this.#maxPingsWaiting} PINGs while an answer waited`);
        }
        break;
      case FrameType.GOAWAY: {
        const { code, reason } = decodeCodeReason(payload);
        this.#peerGoAway = { code, reason };
        this.#log.debug(`peer sent GOAWAY ${errorCodeName(code)}${reason ? ` (${reason})` : ''}`);
        this.emit('goaway', code, reason);
        break;
      }
      case FrameType.CONTROL: {
        const message = parseObject(payload, 'CONTROL');
        if (typeof message.type !== 'string') throw new TunnelError('PROTOCOL_ERROR', 'CONTROL message without a type');
        this.emit('control', message);
        break;
      }
    }
  };

  #onOpen(id: number, payload: Buffer): void {
    const peerParity = this.#role === 'server' ? 1 : 0;
    if (id % 2 !== peerParity) throw new TunnelError('PROTOCOL_ERROR', `peer opened stream ${id} with this side's id parity`);
    if (id <= this.#lastPeerId) throw new TunnelError('PROTOCOL_ERROR', `peer reused or lowered stream id ${id}`);
    this.#lastPeerId = id;
    if (this.#maxOpenRate !== Infinity) {
      // A token bucket: maxOpenRate tokens a second, holding at most one second's worth.
      const now = performance.now();
      this.#openTokens = Math.min(this.#maxOpenRate, this.#openTokens + ((now - this.#openTokensAt) * this.#maxOpenRate) / 1000);
      this.#openTokensAt = now;
      if (this.#openTokens < 1) throw new TunnelError('LIMIT_EXCEEDED', `over ${this.#maxOpenRate} OPENs per second`);
      this.#openTokens--;
    }
    const stream = new MuxStream(this, id, parseObject(payload, 'OPEN'), this.#initialWindow, this.#maxWindow);
    this.#streams.set(id, stream);
    if (this.#goAwaySent || this.listenerCount('stream') === 0) return stream.reset(ErrorCode.REFUSED, 'not accepting streams');
    this.emit('stream', stream);
  }

  /** A frame for a stream not open here: dropped if the stream existed (in flight), else a violation. */
  #checkEnded(id: number, what: string): void {
    const local = id % 2 === (this.#role === 'server' ? 0 : 1);
    if (local ? id >= this.#nextLocalId : id > this.#lastPeerId) {
      throw new TunnelError('PROTOCOL_ERROR', `${what} for stream ${id}, which was never opened`);
    }
  }

  #onPong(payload: Buffer): void {
    if (payload.readUInt32BE(0) !== this.#pingNonce) return;
    const seq = payload.readUInt32BE(4);
    const pending = this.#pings.get(seq);
    if (!pending) return;
    this.#pings.delete(seq);
    // Older pings will not be answered any more: answers come in order, and the peer answers
    // only the latest of the PINGs that reached it together. The newer answer covers them.
    const now = performance.now();
    for (const [older, waiting] of this.#pings) {
      if (older >= seq) continue;
      this.#pings.delete(older);
      waiting.resolve?.(now - waiting.sentAt);
    }
    const sample = now - pending.sentAt;
    this.#srtt = this.#srtt === undefined ? sample : this.#srtt * 0.875 + sample * 0.125;
    if (this.#minRtt === undefined || sample < this.#minRtt) this.#minRtt = sample;
    pending.resolve?.(sample);
    this.#keepalive?.answered();
  }

  #fail(err: unknown): void {
    if (this.#isClosed) return;
    const peerCode = err instanceof TunnelError ? PEER_FAULTS[err.code as keyof typeof PEER_FAULTS] : undefined;
    if (peerCode !== undefined) {
      this.#log.warn(`peer fault: ${(err as TunnelError).message}`);
      this.goAway(peerCode, (err as TunnelError).message);
      this.close(err as TunnelError);
    } else {
      const message = err instanceof Error ? err.message : String(err);
      this.#log.error(`mux session failed: ${message}`);
      this.goAway(ErrorCode.INTERNAL, 'internal error');
      this.close(new TunnelError('INTERNAL', `mux session failed: ${message}`, { cause: err }));
    }
  }

  readonly #onKeepaliveTimeout = (): void => {
    this.goAway(ErrorCode.KEEPALIVE_TIMEOUT);
    this.close(new TunnelError('KEEPALIVE_TIMEOUT', 'the peer stopped answering (keepalive timeout)'));
  };

  readonly #onTransportEnd = (): void => {
    if (this.#isClosed) return;
    const goAway = this.#peerGoAway;
    if (goAway?.code === ErrorCode.NORMAL) return this.close();
    if (goAway) this.close(new TunnelError('GOAWAY', `peer went away: ${errorCodeName(goAway.code)}${goAway.reason ? ` (${goAway.reason})` : ''}`));
    else this.close(new TunnelError('CONNECTION_LOST', 'the transport closed'));
  };

  readonly #onTransportClose = (): void => {
    if (this.#teardownTimer) clearTimeout(this.#teardownTimer);
    this.#teardownTimer = null;
    this.#onTransportEnd();
  };

  readonly #onTransportError = (err: Error): void => {
    if (this.#isClosed) return;
    this.close(err instanceof TunnelError ? err : new TunnelError('CONNECTION_LOST', `transport failed: ${err.message}`, { cause: err }));
  };
}

function parseObject(payload: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new TunnelError('PROTOCOL_ERROR', `${what} payload is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TunnelError('PROTOCOL_ERROR', `${what} payload is not a JSON object`);
  return value as Record<string, unknown>;
}
