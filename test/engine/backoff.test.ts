import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/engine/client/backoff.js';

describe('reconnect backoff', () => {
  it('doubles from 0.5 s to the 30 s cap without jitter', () => {
    const b = new Backoff({ jitter: 0 });
    const waits = Array.from({ length: 9 }, () => b.next());
    expect(waits).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('spreads each wait by at most ±20 %', () => {
    const low = new Backoff({}, () => 0);
    const high = new Backoff({}, () => 0.999999);
    expect(low.next()).toBe(400);
    expect(high.next()).toBe(600);
    for (let i = 0; i < 10; i++) low.next();
    expect(low.next()).toBe(24000);
  });

  it('keeps jitter in bounds with the real random source', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 1000 });
    for (let i = 0; i < 200; i++) {
      const w = b.next();
      expect(w).toBeGreaterThanOrEqual(800);
      expect(w).toBeLessThanOrEqual(1200);
    }
  });

  it('resets only after a session that lasted long enough', () => {
    const b = new Backoff({ jitter: 0 });
    b.next();
    b.next();
    b.sessionEnded(29_999);
    expect(b.next()).toBe(2000);
    b.sessionEnded(30_000);
    expect(b.next()).toBe(500);
  });
});
