import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  FrameDecoder,
  FrameFlag,
  FrameType,
  HEADER_SIZE,
  MAX_DATA_PAYLOAD,
  MAX_FRAME_PAYLOAD,
  decodeCodeReason,
  encodeCodeReason,
  encodeFrame,
  encodeHeader,
  errorCodeName,
} from '../../src/engine/protocol/frame-codec.js';
import { TunnelError } from '../../src/errors.js';

interface Decoded {
  type: number;
  flags: number;
  id: number;
  payload: string;
}

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function decoder(): { decoder: FrameDecoder; frames: Decoded[]; views: Buffer[] } {
  const frames: Decoded[] = [];
  const views: Buffer[] = [];
  let open: Decoded | undefined; // a DATA frame whose last piece has not come yet
  const d = new FrameDecoder((type, flags, id, payload) => {
    views.push(payload);
    // DATA split between chunks comes in pieces, FIN on the last: join them into one frame.
    if (open && type === FrameType.DATA && id === open.id) {
      open.payload += payload.toString('hex');
      open.flags = flags;
    } else frames.push((open = { type, flags, id, payload: payload.toString('hex') }));
    if (type !== FrameType.DATA || flags & FrameFlag.FIN) open = undefined;
  });
  return { decoder: d, frames, views };
}

function decodeError(bytes: Buffer): TunnelError {
  const { decoder: d } = decoder();
  try {
    d.push(bytes);
  } catch (err) {
    return err as TunnelError;
  }
  throw new Error('expected a protocol error');
}

describe('frame codec', () => {
  it('encodes headers big-endian with zero reserved bits', () => {
    expect(encodeHeader(FrameType.DATA, FrameFlag.FIN, 5, 3).toString('hex')).toBe('000100000000000500000003');
    expect(encodeHeader(FrameType.WINDOW, 0, 0xfffffffe, 4).toString('hex')).toBe('02000000fffffffe00000004');
    expect(encodeFrame(FrameType.PING, FrameFlag.ACK, 0, hex('0102030405060708')).toString('hex')).toBe(
      '040200000000000000000008' + '0102030405060708',
    );
    expect(HEADER_SIZE).toBe(12);
    expect(MAX_FRAME_PAYLOAD).toBe(1048564);
  });

  it('encodes and decodes RESET/GOAWAY payloads and names error codes', () => {
    expect(encodeCodeReason(ErrorCode.REFUSED, 'no port').toString('hex')).toBe('00000005' + Buffer.from('no port').toString('hex'));
    expect(encodeCodeReason(ErrorCode.NORMAL).toString('hex')).toBe('00000000');
    expect(decodeCodeReason(hex('00000008 6869'))).toEqual({ code: 8, reason: 'hi' });
    expect(errorCodeName(ErrorCode.KEEPALIVE_TIMEOUT)).toBe('KEEPALIVE_TIMEOUT');
    expect(errorCodeName(9)).toBe('CANCELLED');
    expect(errorCodeName(42)).toBe('UNKNOWN_42');
  });

  it('decodes one frame from raw bytes', () => {
    const { decoder: d, frames } = decoder();
    d.push(hex('01000000 00000002 00000002 7b7d'));
    expect(frames).toEqual([{ type: FrameType.OPEN, flags: 0, id: 2, payload: '7b7d' }]);
    expect(d.idle).toBe(true);
  });

  it('decodes many frames packed in one chunk, passing payloads as views', () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < 100; i++) parts.push(encodeFrame(FrameType.DATA, i === 99 ? FrameFlag.FIN : 0, 1 + 2 * i, Buffer.from([i, i])));
    parts.push(hex('04000000 00000000 00000008 0001020304050607'));
    parts.push(hex('00010000 00000007 00000000')); // empty DATA with FIN
    const chunk = Buffer.concat(parts);
    const { decoder: d, frames, views } = decoder();
    d.push(chunk);
    expect(frames).toHaveLength(102);
    expect(frames[0]).toEqual({ type: 0, flags: 0, id: 1, payload: '0000' });
    expect(frames[99]).toEqual({ type: 0, flags: FrameFlag.FIN, id: 199, payload: '6363' });
    expect(frames[100]).toEqual({ type: FrameType.PING, flags: 0, id: 0, payload: '0001020304050607' });
    expect(frames[101]).toEqual({ type: 0, flags: FrameFlag.FIN, id: 7, payload: '' });
    expect(views[5].buffer).toBe(chunk.buffer); // no copy
  });

  it('decodes frames split byte by byte and at random points identically', () => {
    const stream = Buffer.concat([
      encodeFrame(FrameType.OPEN, 0, 1, Buffer.from('{"port":22}')),
      encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(MAX_DATA_PAYLOAD, 0xab)),
      encodeFrame(FrameType.WINDOW, 0, 1, hex('00040000')),
      encodeFrame(FrameType.CONTROL, 0, 0, Buffer.from('{"type":"hello"}')),
      encodeFrame(FrameType.RESET, 0, 1, encodeCodeReason(ErrorCode.CANCELLED, 'bye')),
      encodeFrame(FrameType.GOAWAY, 0, 0, encodeCodeReason(ErrorCode.SHUTDOWN)),
    ]);
    const whole = decoder();
    whole.decoder.push(stream);
    expect(whole.frames.map((f) => f.type)).toEqual([1, 0, 2, 6, 3, 5]);

    const bytewise = decoder();
    for (let i = 0; i < stream.length; i++) bytewise.decoder.push(stream.subarray(i, i + 1));
    expect(bytewise.frames).toEqual(whole.frames);

    for (let round = 0; round < 20; round++) {
      const split = decoder();
      let at = 0;
      while (at < stream.length) {
        const size = 1 + Math.floor(Math.random() * 20_000);
        split.decoder.push(stream.subarray(at, at + size));
        at += size;
      }
      expect(split.frames).toEqual(whole.frames);
      expect(split.decoder.idle).toBe(true);
    }
  });

  it('holds a partial frame until its last byte arrives', () => {
    const { decoder: d, frames } = decoder();
    d.push(hex('0600000000000000'));
    d.push(hex('00000002 7b'));
    expect(frames).toHaveLength(0);
    expect(d.idle).toBe(false);
    d.push(hex('7d 0200'));
    expect(frames).toEqual([{ type: 6, flags: 0, id: 0, payload: '7b7d' }]);
  });

  const malformed: Array<[string, string]> = [
    ['unknown frame type', '07000000 00000000 00000000'],
    ['non-zero reserved bits', '00000001 00000001 00000000'],
    ['reserved high byte', '00008000 00000001 00000000'],
    ['FIN on OPEN', '01010000 00000001 00000002 7b7d'],
    ['ACK on DATA', '00020000 00000001 00000000'],
    ['unknown flag on PING', '04040000 00000000 00000008 0000000000000000'],
    ['DATA on stream 0', '00000000 00000000 00000001 ff'],
    ['OPEN on stream 0', '01000000 00000000 00000002 7b7d'],
    ['WINDOW on stream 0', '02000000 00000000 00000004 00000001'],
    ['PING on a stream', '04000000 00000003 00000008 0000000000000000'],
    ['GOAWAY on a stream', '05000000 00000001 00000004 00000000'],
    ['CONTROL on a stream', '06000000 00000001 00000002 7b7d'],
    ['WINDOW of 3 bytes', '02000000 00000001 00000003 000001'],
    ['PING of 7 bytes', '04000000 00000000 00000007 00000000000000'],
    ['RESET without a code', '03000000 00000001 00000002 0000'],
    ['GOAWAY without a code', '05000000 00000000 00000000'],
    ['DATA above 64 KiB', '00000000 00000001 00010001'],
    ['OPEN above 1 MiB - 12', '01000000 00000001 000ffff5'],
    ['a 4 GiB length', '06000000 00000000 ffffffff'],
  ];
  for (const [what, bytes] of malformed) {
    it(`rejects ${what} as PROTOCOL_ERROR`, () => {
      const err = decodeError(hex(bytes));
      expect(err).toBeInstanceOf(TunnelError);
      expect(err.code).toBe('PROTOCOL_ERROR');
    });
  }

  it('rejects a bad header even when it arrives byte by byte, then accepts nothing more', () => {
    const { decoder: d, frames } = decoder();
    const bytes = hex('00000000 00000001 00000001 ff 07000000 00000000 00000000');
    let thrown: unknown;
    for (let i = 0; i < bytes.length && !thrown; i++) {
      try {
        d.push(bytes.subarray(i, i + 1));
      } catch (err) {
        thrown = err;
      }
    }
    expect(frames).toHaveLength(1);
    expect((thrown as TunnelError).code).toBe('PROTOCOL_ERROR');
    expect(() => d.push(encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(8)))).toThrow(TunnelError);
    expect(frames).toHaveLength(1);
  });

  it('accepts the largest legal frames', () => {
    const { decoder: d, frames } = decoder();
    d.push(Buffer.concat([encodeHeader(FrameType.DATA, 0, 1, MAX_DATA_PAYLOAD), Buffer.alloc(MAX_DATA_PAYLOAD)]));
    d.push(Buffer.concat([encodeHeader(FrameType.CONTROL, 0, 0, MAX_FRAME_PAYLOAD), Buffer.alloc(MAX_FRAME_PAYLOAD, 0x20)]));
    expect(frames.map((f) => f.payload.length / 2)).toEqual([MAX_DATA_PAYLOAD, MAX_FRAME_PAYLOAD]);
  });
});
