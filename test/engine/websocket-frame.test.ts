import { describe, expect, it } from 'vitest';
import {
  FrameParser,
  encodeHeader,
  headerSize,
  maskInPlace,
  randomMaskKey,
  type FrameParserOptions,
} from '../../src/engine/transport/websocket-frame.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** Feeds chunks to a parser and records what it reports. */
function parse(chunks: Buffer[], options: Partial<FrameParserOptions> = {}) {
  const data: Buffer[] = [];
  const control: Array<{ opcode: number; payload: string }> = [];
  const parser = new FrameParser(
    {
      onData: (payload) => data.push(Buffer.from(payload)),
      onControl: (opcode, payload) => control.push({ opcode, payload: payload.toString('hex') }),
    },
    { role: 'client', maxMessageBytes: 1024 * 1024, ...options },
  );
  for (const chunk of chunks) parser.push(chunk);
  return { data: Buffer.concat(data), pieces: data.length, control };
}

function naiveMask(data: Buffer, key: Buffer, keyOffset: number): Buffer {
  return Buffer.from(data.map((byte, i) => byte ^ key[(keyOffset + i) % 4]));
}

describe('frame header encoding', () => {
  it('uses a 7-bit length up to 125 bytes', () => {
    expect(encodeHeader(0x2, true, 0).toString('hex')).toBe('8200');
    expect(encodeHeader(0x2, true, 125).toString('hex')).toBe('827d');
    expect(encodeHeader(0x2, false, 5).toString('hex')).toBe('0205');
  });

  it('uses a 16-bit length from 126 to 65535 bytes', () => {
    expect(encodeHeader(0x2, true, 126).toString('hex')).toBe('827e007e');
    expect(encodeHeader(0x2, true, 65535).toString('hex')).toBe('827effff');
  });

  it('uses a 64-bit length from 65536 bytes', () => {
    expect(encodeHeader(0x2, true, 65536).toString('hex')).toBe('827f0000000000010000');
    expect(encodeHeader(0x2, true, 2 ** 32 + 5).toString('hex')).toBe('827f0000000100000005');
  });

  it('sets the mask bit and appends the key', () => {
    expect(encodeHeader(0x9, true, 5, hex('37fa213d')).toString('hex')).toBe('898537fa213d');
    expect(encodeHeader(0x2, true, 300, hex('01020304')).toString('hex')).toBe('82fe012c01020304');
    expect(headerSize(5, true)).toBe(6);
    expect(headerSize(300, false)).toBe(4);
    expect(headerSize(70000, true)).toBe(14);
  });
});

describe('masking', () => {
  it('masks the RFC 6455 example', () => {
    const data = Buffer.from('Hello');
    maskInPlace(data, hex('37fa213d'));
    expect(data.toString('hex')).toBe('7f9f4d5158');
  });

  it('matches a byte-by-byte XOR at every alignment, length and key offset', () => {
    const key = hex('a1b2c3d4');
    const backing = Buffer.alloc(128);
    for (let start = 0; start < 4; start++) {
      for (let length = 0; length < 70; length++) {
        for (let keyOffset = 0; keyOffset < 4; keyOffset++) {
          const view = backing.subarray(start, start + length);
          for (let i = 0; i < length; i++) view[i] = (i * 31 + start) & 0xff;
          const expected = naiveMask(view, key, keyOffset);
          maskInPlace(view, key, keyOffset);
          expect(view.equals(expected)).toBe(true);
        }
      }
    }
  });

  it('unmasks a payload split into pieces', () => {
    const key = hex('0badf00d');
    const plain = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
    const masked = naiveMask(plain, key, 0);
    for (const cut of [1, 3, 4, 7, 500]) {
      const copy = Buffer.from(masked);
      maskInPlace(copy.subarray(0, cut), key, 0);
      maskInPlace(copy.subarray(cut), key, cut);
      expect(copy.equals(plain)).toBe(true);
    }
  });

  it('gives fresh random keys', () => {
    const keys = new Set(Array.from({ length: 3000 }, () => randomMaskKey().toString('hex')));
    expect(keys.size).toBeGreaterThan(2990);
  });
});

describe('frame parser', () => {
  it('reads an unmasked binary frame (client role)', () => {
    const result = parse([hex('8205 48656c6c6f')]);
    expect(result.data.toString()).toBe('Hello');
  });

  it('reads and unmasks a masked binary frame (server role)', () => {
    const result = parse([hex('8285 37fa213d 7f9f4d5158')], { role: 'server' });
    expect(result.data.toString()).toBe('Hello');
  });

  it('hands payload over as views of the chunk, without waiting for the whole frame', () => {
    const chunk = hex('8205 48656c6c6f');
    const pieces: Buffer[] = [];
    const parser = new FrameParser(
      { onData: (payload) => pieces.push(payload), onControl: () => {} },
      { role: 'client', maxMessageBytes: 100 },
    );
    parser.push(chunk.subarray(0, 4));
    expect(pieces.map((p) => p.toString())).toEqual(['He']);
    parser.push(chunk.subarray(4));
    expect(pieces.map((p) => p.toString())).toEqual(['He', 'llo']);
    expect(pieces[1].buffer).toBe(chunk.buffer); // no copy
  });

  it('reads 16-bit and 64-bit lengths', () => {
    const p256 = Buffer.alloc(256, 0xab);
    expect(parse([hex('827e0100'), p256]).data.equals(p256)).toBe(true);
    const p64k = Buffer.alloc(65536, 0xcd);
    expect(parse([hex('827f0000000000010000'), p64k]).data.equals(p64k)).toBe(true);
  });

  it('gives the same result when fed one byte at a time', () => {
    const frames = Buffer.concat([hex('82fe0100 01020304'), naiveMask(Buffer.alloc(256, 7), hex('01020304'), 0), hex('8980 00000000')]);
    const bytes = [...frames].map((b) => Buffer.from([b]));
    const result = parse(bytes, { role: 'server' });
    expect(result.data.equals(Buffer.alloc(256, 7))).toBe(true);
    expect(result.control).toEqual([{ opcode: 9, payload: '' }]);
  });

  it('joins fragments of a message and allows control frames between them', () => {
    const result = parse([hex('0203 48656c'), hex('8903 616263'), hex('8002 6c6f')]);
    expect(result.data.toString()).toBe('Hello');
    expect(result.control).toEqual([{ opcode: 9, payload: '616263' }]);
  });

  it('reports close, ping and pong frames whole', () => {
    const result = parse([hex('8802 03e8 8a01 7a 8900')]);
    expect(result.control).toEqual([
      { opcode: 8, payload: '03e8' },
      { opcode: 10, payload: '7a' },
      { opcode: 9, payload: '' },
    ]);
  });

  const rejects = (chunks: Buffer[], pattern: RegExp, options: Partial<FrameParserOptions> = {}) => {
    let error: unknown;
    try {
      parse(chunks, options);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'PROTOCOL_ERROR' });
    expect((error as Error).message).toMatch(pattern);
  };

  it('rejects text frames', () => rejects([hex('8105 48656c6c6f')], /text/));
  it('rejects fragmented control frames', () => rejects([hex('0900')], /fragmented control/));
  it('rejects control frames over 125 bytes', () => rejects([hex('897e007e'), Buffer.alloc(126)], /125/));
  it('rejects reserved bits', () => rejects([hex('c200')], /reserved/));
  it('rejects unknown opcodes', () => rejects([hex('8300')], /opcode/));
  it('rejects a continuation without a message', () => rejects([hex('8000')], /continuation/));
  it('rejects a new message inside a fragmented one', () => rejects([hex('0201 61'), hex('8201 62')], /previous/));
  it('rejects unmasked frames in the server role', () => rejects([hex('8200')], /not masked/, { role: 'server' }));
  it('rejects masked frames in the client role', () => rejects([hex('8280 01020304')], /masked/));
  it('rejects a 64-bit length with the top bit set', () => rejects([hex('827f8000000000000000')], /top bit/));
  it('passes a 1-byte close payload on (the duplex is the one to reject it)', () => {
    expect(parse([hex('880101')]).control).toEqual([{ opcode: 8, payload: '01' }]);
  });

  it('rejects a message over the limit from its header, before any payload', () => {
    rejects([hex('827e0065')], /more than 100 bytes/, { maxMessageBytes: 100 });
    expect(parse([hex('8264'), Buffer.alloc(100)], { maxMessageBytes: 100 }).data.length).toBe(100);
  });

  it('rejects a fragmented message whose fragments add up to more than the limit', () => {
    rejects([hex('0232'), Buffer.alloc(50), hex('8033'), Buffer.alloc(51)], /more than 100 bytes/, { maxMessageBytes: 100 });
  });

  it('rejects a huge 64-bit length', () => rejects([hex('827f0000010000000000')], /over|more than/));
});

describe('frame parser stop', () => {
  it('ignores everything after stop(), even in the same chunk', () => {
    const data: Buffer[] = [];
    const parser = new FrameParser(
      {
        onData: (payload) => data.push(Buffer.from(payload)),
        onControl: (opcode) => {
          if (opcode === 0x8) parser.stop();
        },
      },
      { role: 'client', maxMessageBytes: 100 },
    );
    parser.push(hex('8201 61 8800 8201 62 8105 48656c6c6f'));
    expect(Buffer.concat(data).toString()).toBe('a');
  });
});
