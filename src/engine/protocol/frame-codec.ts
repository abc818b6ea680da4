/**
 * The frame layer of docs/PROTOCOL.md section 5: constants, header encoding, and a streaming
 * decoder. Every frame is a 12-byte header (type u8, flags u8, reserved u16 = 0, stream id u32,
 * payload length u32, all big-endian) followed by the payload.
 */
import { TunnelError } from '../../errors.js';

/** Bytes in a frame header. */
export const HEADER_SIZE = 12;
/** Largest DATA payload, in bytes (64 KiB), so one bulk stream cannot hold the link for long. */
export const MAX_DATA_PAYLOAD = 65536;
/** Largest payload of any frame, in bytes: a websocket message (1 MiB) minus one header. */
export const MAX_FRAME_PAYLOAD = 1024 * 1024 - HEADER_SIZE;
/** Send credit each stream direction starts with, in bytes (256 KiB). */
export const INITIAL_WINDOW = 256 * 1024;
/** Largest window a receiver grows a stream to, in bytes (16 MiB). */
export const MAX_WINDOW = 16 * 1024 * 1024;

/** Frame types (section 5). */
export const FrameType = {
  DATA: 0,
  OPEN: 1,
  WINDOW: 2,
  RESET: 3,
  PING: 4,
  GOAWAY: 5,
  CONTROL: 6,
} as const;

/** Frame flags (section 5). */
export const FrameFlag = {
  /** DATA: the sender will send no more data on this stream. */
  FIN: 0x01,
  /** PING: this PING answers one received. */
  ACK: 0x02,
} as const;

/** Error codes carried by RESET and GOAWAY (section 5). */
export const ErrorCode = {
  NORMAL: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL: 2,
  FLOW_CONTROL: 3,
  UPSTREAM_UNREACHABLE: 4,
  REFUSED: 5,
  REPLACED: 6,
  SHUTDOWN: 7,
  KEEPALIVE_TIMEOUT: 8,
  CANCELLED: 9,
  LIMIT_EXCEEDED: 10,
} as const;

/** Most send credit a stream may hold, in bytes (2^31 - 1, as HTTP/2); more is a protocol error. */
export const MAX_CREDIT = 0x7fffffff;

const errorNames = Object.keys(ErrorCode);

/** The name of a RESET/GOAWAY error code (`'REFUSED'`), or `'UNKNOWN_<n>'` for codes this version lacks. */
export function errorCodeName(code: number): string {
  return errorNames[code] ?? `UNKNOWN_${code}`;
}

// Per type: the flags it may carry, whether its stream id must be 0, and its payload length bounds.
const allowedFlags = [FrameFlag.FIN, 0, 0, 0, FrameFlag.ACK, 0, 0];
const onSession = [false, false, false, false, true, true, true];
const minLength = [0, 0, 4, 4, 8, 4, 0];
const maxLength = [MAX_DATA_PAYLOAD, MAX_FRAME_PAYLOAD, 4, MAX_FRAME_PAYLOAD, 8, MAX_FRAME_PAYLOAD, MAX_FRAME_PAYLOAD];

/** A 12-byte frame header. The caller sends `length` bytes of payload after it. */
export function encodeHeader(type: number, flags: number, streamId: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  header[0] = type;
  header[1] = flags;
  header[2] = 0;
  header[3] = 0;
  header.writeUInt32BE(streamId, 4);
  header.writeUInt32BE(length, 8);
  return header;
}

/** A whole frame in one buffer: header then payload (for control frames, which are small). */
export function encodeFrame(type: number, flags: number, streamId: number, payload?: Uint8Array): Buffer {
  const length = payload ? payload.length : 0;
  const frame = Buffer.allocUnsafe(HEADER_SIZE + length);
  frame[0] = type;
  frame[1] = flags;
  frame[2] = 0;
  frame[3] = 0;
  frame.writeUInt32BE(streamId, 4);
  frame.writeUInt32BE(length, 8);
  if (payload) frame.set(payload, HEADER_SIZE);
  return frame;
}

/** The payload of RESET and GOAWAY: u32 error code, then an optional UTF-8 reason. */
export function encodeCodeReason(code: number, reason?: string): Buffer {
  const text = reason ? Buffer.from(reason, 'utf8') : undefined;
  const payload = Buffer.allocUnsafe(4 + (text ? text.length : 0));
  payload.writeUInt32BE(code, 0);
  if (text) payload.set(text, 4);
  return payload;
}

/** Reads a RESET or GOAWAY payload. */
export function decodeCodeReason(payload: Buffer): { code: number; reason: string } {
  return { code: payload.readUInt32BE(0), reason: payload.toString('utf8', 4) };
}

/** Called once per whole frame. `payload` may be a view into a received chunk: copy it to keep it past the chunk's life. */
export type FrameHandler = (type: number, flags: number, streamId: number, payload: Buffer) => void;

function protocolError(message: string): TunnelError {
  return new TunnelError('PROTOCOL_ERROR', message);
}

/**
 * Turns a byte stream into frames. Chunks may split frames anywhere or hold many frames. DATA is
 * passed on as it arrives, as views into the chunks (no copy): a DATA frame split between chunks
 * comes as several calls, FIN only on the last. Other frames come whole, as a view when they arrive
 * inside one chunk. Malformed input throws a TunnelError with code `PROTOCOL_ERROR`, after which
 * the decoder accepts nothing more.
 */
export class FrameDecoder {
  readonly #header = Buffer.allocUnsafe(HEADER_SIZE);
  #headerFill = 0;
  /** Payload bytes of the current frame still to come; -1 while reading a header. */
  #left = -1;
  #parts: Buffer[] = [];
  #type = 0;
  #flags = 0;
  #streamId = 0;
  #failed: TunnelError | null = null;

  readonly #onFrame: FrameHandler;

  constructor(onFrame: FrameHandler) {
    this.#onFrame = onFrame;
  }

  /** True when no partial frame is held. */
  get idle(): boolean {
    return this.#headerFill === 0 && this.#left < 0;
  }

  /** Feeds bytes in; calls the handler for each frame (or DATA piece) completed. Throws on a protocol violation. */
  push(chunk: Buffer): void {
    if (this.#failed) throw this.#failed;
    const end = chunk.length;
    let at = 0;
    try {
      while (at < end) {
        if (this.#left < 0) {
          if (this.#headerFill === 0 && end - at >= HEADER_SIZE) {
            this.#left = this.#readHeader(chunk, at);
            at += HEADER_SIZE;
          } else {
            while (this.#headerFill < HEADER_SIZE && at < end) this.#header[this.#headerFill++] = chunk[at++];
            if (this.#headerFill < HEADER_SIZE) break;
            this.#headerFill = 0;
            this.#left = this.#readHeader(this.#header, 0);
          }
          if (this.#left > 0) continue;
        }
        const take = Math.min(this.#left, end - at);
        const piece = chunk.subarray(at, (at += take));
        const parts = this.#parts;
        if ((this.#left -= take) === 0) this.#left = -1;
        if (this.#type === FrameType.DATA) this.#onFrame(0, this.#left < 0 ? this.#flags : 0, this.#streamId, piece);
        else if (parts.push(piece) && this.#left < 0) {
          this.#parts = [];
          this.#onFrame(this.#type, this.#flags, this.#streamId, parts.length === 1 ? piece : Buffer.concat(parts));
        }
      }
    } catch (err) {
      if (err instanceof TunnelError && err.code === 'PROTOCOL_ERROR') this.#failed = err;
      throw err;
    }
  }

  /** Parses and validates a header at `at`; remembers type, flags and stream id; returns the payload length. */
  #readHeader(buf: Buffer, at: number): number {
    const type = buf[at];
    const flags = buf[at + 1];
    const streamId = buf.readUInt32BE(at + 4);
    const length = buf.readUInt32BE(at + 8);
    if (type > FrameType.CONTROL) throw protocolError(`unknown frame type ${type}`);
    if ((buf[at + 2] | buf[at + 3]) !== 0) throw protocolError('reserved header bits are set');
    if ((flags & ~allowedFlags[type]) !== 0) throw protocolError(`flags 0x${flags.toString(16)} not allowed on frame type ${type}`);
    if (onSession[type] !== (streamId === 0)) {
      throw protocolError(onSession[type] ? `frame type ${type} must use stream 0` : `frame type ${type} must not use stream 0`);
    }
    if (length < minLength[type] || length > maxLength[type]) throw protocolError(`frame type ${type} with bad length ${length}`);
    this.#type = type;
    this.#flags = flags;
    this.#streamId = streamId;
    return length;
  }
}
