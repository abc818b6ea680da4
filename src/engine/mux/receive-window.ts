/**
 * The receiving half of per-stream flow control (docs/PROTOCOL.md section 7): how much the peer may
 * still send, when to grant more, and when to grow the window for long round trips.
 */
export class ReceiveWindow {
  /** Current window, in bytes: the most this side holds received but not yet handed on. */
  size: number;
  /** Total bytes the peer may have sent so far (initial window plus every grant). */
  private limit: number;
  /** Total bytes received. */
  private received = 0;
  /** Total handed-on bytes already returned to the peer as credit. */
  private returned = 0;
  /** When the last WINDOW was granted, in ms (performance.now()). */
  private lastGrantAt = -Infinity;

  /**
   * @param initial window the peer starts with, in bytes (must equal the peer's idea of it)
   * @param max the window never grows beyond this, in bytes
   */
  constructor(
    initial: number,
    private readonly max: number,
  ) {
    this.size = initial;
    this.limit = initial;
  }

  /** Counts `length` received bytes; false when they exceed the credit granted (FLOW_CONTROL). */
  receive(length: number): boolean {
    if (this.received + length > this.limit) return false;
    this.received += length;
    return true;
  }

  /**
   * Given the total bytes handed on so far, returns the credit increment to send in a WINDOW frame,
   * or 0 when less than half the window is waiting to be returned. Doubles the window (up to max)
   * when two grants happen less than two round trips apart: the peer is then waiting on credit.
   *
   * @param handedOn total bytes handed on since the stream opened
   * @param nowMs a monotonic clock, in ms
   * @param rttMs round-trip time in ms, undefined while unknown (no growth then)
   */
  grant(handedOn: number, nowMs: number, rttMs: number | undefined): number {
    const due = handedOn - this.returned;
    if (due < this.size / 2 || due <= 0) return 0;
    let increment = due;
    if (rttMs !== undefined && this.size < this.max && nowMs - this.lastGrantAt < 2 * rttMs) {
      const grown = Math.min(this.size * 2, this.max);
      increment += grown - this.size;
      this.size = grown;
    }
    this.lastGrantAt = nowMs;
    this.returned = handedOn;
    this.limit += increment;
    return increment;
  }
}
