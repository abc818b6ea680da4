import { describe, expect, it } from 'vitest';
import { ReceiveWindow } from '../../src/engine/mux/receive-window.js';

const KiB = 1024;

describe('receive window (PROTOCOL.md section 7)', () => {
  it('refuses data beyond the credit granted', () => {
    const w = new ReceiveWindow(256 * KiB, 16 * 1024 * KiB);
    expect(w.receive(256 * KiB)).toBe(true);
    expect(w.receive(1)).toBe(false);
  });

  it('grants once half the window has been handed on, with the count since the last grant', () => {
    const w = new ReceiveWindow(256 * KiB, 16 * 1024 * KiB);
    w.receive(256 * KiB);
    expect(w.grant(128 * KiB - 1, 0, undefined)).toBe(0);
    expect(w.grant(128 * KiB, 0, undefined)).toBe(128 * KiB);
    expect(w.grant(200 * KiB, 1, undefined)).toBe(0);
    expect(w.grant(256 * KiB, 1, undefined)).toBe(128 * KiB);
    expect(w.receive(256 * KiB)).toBe(true); // exactly the new credit
    expect(w.receive(1)).toBe(false);
    expect(w.size).toBe(256 * KiB);
  });

  it('doubles the window while it is below 2 x rate x round trip', () => {
    const w = new ReceiveWindow(256 * KiB, 1024 * KiB);
    // RTT 50 ms; a grant of half a window every 40 ms (less than one round trip apart).
    let handedOn = 0;
    let t = 1000;
    const step = (bytes: number, ms: number) => w.grant((handedOn += bytes), (t += ms), 50);
    expect(step(128 * KiB, 0)).toBe(128 * KiB); // starts the rate measurement
    expect(step(128 * KiB, 40)).toBe(128 * KiB);
    expect(step(128 * KiB, 40)).toBe(128 * KiB); // 80 ms: less than the 100 ms span
    expect(w.size).toBe(256 * KiB);
    // 120 ms after the first grant the span is complete: 384 KiB / 120 ms, 2 x rate x RTT = 320 KiB.
    expect(step(128 * KiB, 40)).toBe(128 * KiB + 256 * KiB);
    expect(w.size).toBe(512 * KiB);
    // Now a grant needs half of 512 KiB, and a fresh span before the next doubling.
    expect(w.grant(handedOn + 255 * KiB, t + 10, 50)).toBe(0);
    expect(step(256 * KiB, 40)).toBe(256 * KiB);
    expect(step(256 * KiB, 40)).toBe(256 * KiB);
    expect(step(256 * KiB, 40)).toBe(256 * KiB + 512 * KiB); // 768 KiB / 120 ms: 640 KiB > 512 KiB
    expect(w.size).toBe(1024 * KiB);
    for (let i = 0; i < 8; i++) step(512 * KiB, 20);
    expect(w.size).toBe(1024 * KiB); // capped at max
  });

  it('stops growing once the window covers twice what one round trip carries', () => {
    const w = new ReceiveWindow(256 * KiB, 16 * 1024 * KiB);
    // 10 MB/s and RTT 100 ms: 2 x rate x RTT = 2 MB, so the window settles at 2 MiB.
    let handedOn = 0;
    for (let t = 0; t < 20_000; t++) {
      handedOn += 10_000; // bytes per ms
      w.grant(handedOn, t, 100);
    }
    expect(w.size).toBe(2 * 1024 * KiB);
  });

  it('does not grow on a burst, on a slow stream, or while the round trip is unknown', () => {
    // Loopback-like: RTT 0.2 ms, so the rate is averaged over 10 ms; another stream is active.
    const burst = new ReceiveWindow(256 * KiB, 16 * 1024 * KiB);
    let handedOn = 0;
    let t = 0;
    let others = 0;
    for (let i = 0; i < 40; i++) {
      // A whole window handed on at once every 4 ms (the scheduler held this side): 64 MB/s on
      // average, while 2 x rate x RTT = 26 KiB is far below the window.
      burst.grant((handedOn += 128 * KiB), t, 0.2, ++others);
      burst.grant((handedOn += 128 * KiB), (t += 0.01), 0.2, ++others);
      t += 4;
    }
    expect(burst.size).toBe(256 * KiB);

    const slow = new ReceiveWindow(256 * KiB, 16 * 1024 * KiB);
    handedOn = 0;
    for (let i = 0; i < 20; i++) slow.grant((handedOn += 128 * KiB), i * 200, 50); // 128 KiB per 4 RTT
    expect(slow.size).toBe(256 * KiB);

    const unknown = new ReceiveWindow(256 * KiB, 16 * 1024 * KiB);
    handedOn = 0;
    for (let i = 0; i < 20; i++) unknown.grant((handedOn += 128 * KiB), i, undefined);
    expect(unknown.size).toBe(256 * KiB);
  });

  it('lets a stream alone on the session hold 4 ms of its rate, and shrinks it when others share', () => {
    const w = new ReceiveWindow(256 * KiB, 16 * 1024 * KiB);
    let handedOn = 0;
    let t = 0;
    let granted = 0;
    const run = (ms: number, others: () => number) => {
      // 400 bytes per µs (400 MB/s), RTT 0.2 ms, a grant attempt every 0.1 ms.
      for (const end = t + ms; t < end; t += 0.1) granted += w.grant((handedOn += 40_000), t, 0.2, others());
    };
    run(100, () => 0);
    // 4 ms at 400 MB/s is 1.6 MB: 2 MiB is the first power of two above it.
    expect(w.size).toBe(2 * 1024 * KiB);
    const outstanding = () => 256 * KiB + granted - handedOn; // credit the peer still holds
    expect(outstanding()).toBeLessThanOrEqual(w.size);
    expect(outstanding()).toBeGreaterThan(256 * KiB);
    // Another stream's data interleaves: back to the initial window (2 x rate x RTT is only 160 kB).
    let n = 0;
    run(30, () => ++n);
    expect(w.size).toBe(256 * KiB);
    // Credit already out is used up first; from then on the peer holds at most the small window.
    expect(outstanding()).toBeLessThanOrEqual(256 * KiB);
  });

  it('keeps received-but-not-handed-on bytes within the window as it grows', () => {
    const w = new ReceiveWindow(64 * KiB, 1024 * KiB);
    let received = 0;
    let handedOn = 0;
    let credit = 64 * KiB;
    for (let step = 0; step < 1000; step++) {
      const n = Math.min(credit, 1 + Math.floor(Math.random() * 20 * KiB));
      if (n > 0) {
        expect(w.receive(n)).toBe(true);
        received += n;
        credit -= n;
      }
      expect(received - handedOn).toBeLessThanOrEqual(w.size);
      handedOn += Math.floor((received - handedOn) * Math.random());
      credit += w.grant(handedOn, step, 5);
    }
    expect(w.size).toBeGreaterThan(64 * KiB);
  });
});
