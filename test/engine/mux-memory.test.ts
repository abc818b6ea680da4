import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { runMuxSuite } from './mux-suite.js';
import { duplexPair, makeMemoryPair } from '../helpers/duplex-pair.js';
import { MuxSession } from '../../src/engine/mux/mux-session.js';
import type { MuxStream } from '../../src/engine/mux/mux-stream.js';
import { INITIAL_WINDOW } from '../../src/engine/protocol/frame-codec.js';

runMuxSuite('an in-memory duplex pair', () => makeMemoryPair());

describe('mux over an in-memory pair with 20 ms latency', () => {
  it('grows a bulk stream window beyond 256 KiB when the round trip dominates', async () => {
    const [a, b] = duplexPair({ latencyMs: 20 });
    const server = new MuxSession(a, { role: 'server' });
    const client = new MuxSession(b, { role: 'client' });
    try {
      await client.ping(); // learn the round trip
      await server.ping();
      expect(server.rttMs).toBeGreaterThanOrEqual(30);
      const accepted = once(server, 'stream');
      const stream = client.openStream({});
      const data = randomBytes(16 * 1024 * 1024);
      stream.end(data);
      const [peer] = (await accepted) as [MuxStream];
      const hash = createHash('sha256');
      let bytes = 0;
      peer.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
      });
      await once(peer, 'end');
      expect(bytes).toBe(data.length);
      expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      expect(peer.receiveWindowSize).toBeGreaterThan(INITIAL_WINDOW);
    } finally {
      server.close();
      client.close();
    }
  });
});
