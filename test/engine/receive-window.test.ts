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

  it('doubles the window when a whole window is handed on within two round trips', () => {
    const w = new ReceiveWindow(256 * KiB, 1024 * KiB);
    expect(w.grant(128 * KiB, 1000, 50)).toBe(128 * KiB); // nothing to compare with yet
    expect(w.grant(256 * KiB, 1001, 50)).toBe(128 * KiB); // two grants in a burst: not enough
    // The third grant, 99 ms after the first (< 2 * 50 ms): growth, carried by the increment.
    expect(w.grant(384 * KiB, 1099, 50)).toBe(128 * KiB + 256 * KiB);
    expect(w.size).toBe(512 * KiB);
    // Now half of 512 KiB must be handed on per grant, and three fresh grants before growing again.
    expect(w.grant(384 * KiB + 255 * KiB, 1100, 50)).toBe(0);
    expect(w.grant(640 * KiB, 1100, 50)).toBe(256 * KiB);
    expect(w.grant(896 * KiB, 1101, 50)).toBe(256 * KiB);
    expect(w.grant(1152 * KiB, 1102, 50)).toBe(256 * KiB + 512 * KiB);
    expect(w.size).toBe(1024 * KiB);
    for (let i = 1; i <= 3; i++) w.grant(1152 * KiB + i * 512 * KiB, 1103 + i, 50);
    expect(w.size).toBe(1024 * KiB); // capped at max
  });

  it('does not grow on a burst, when grants are far apart, or while the round trip is unknown', () => {
    const w = new ReceiveWindow(256 * KiB, 16 * 1024 * KiB);
    // A backlog of one window handed on at once, then the next half window much later.
    w.grant(128 * KiB, 0, 10);
    w.grant(256 * KiB, 0.1, 10);
    w.grant(384 * KiB, 20, 10); // 20 ms after the first: exactly 2 RTT, not less
    w.grant(512 * KiB, 50, 10);
    w.grant(640 * KiB, 51, undefined);
    w.grant(768 * KiB, 52, undefined);
    expect(w.size).toBe(256 * KiB);
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
