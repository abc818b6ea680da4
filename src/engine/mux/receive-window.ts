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
  /** When the last two WINDOW frames were granted at the current size, in ms (monotonic clock). */
  private lastGrantAt = -Infinity;
  private previousGrantAt = -Infinity;

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
   * or 0 when less than half the window is waiting to be returned.
   *
   * Growth: the window doubles (up to max) when a whole window was handed on within two round
   * trips, that is three grants at the current size less than two round trips apart: the sender is
   * then waiting on credit, not on the link. Counting a whole window rather than two grants keeps a
   * burst (this side catching up on a backlog, which holds at most one window) from looking like a
   * fast link; growing a window that only queues data would delay every other stream behind it.
   *
   * @param handedOn total bytes handed on since the stream opened
   * @param nowMs a monotonic clock, in ms
   * @param rttMs the link's round-trip time in ms, undefined while unknown (no growth then)
   */
  grant(handedOn: number, nowMs: number, rttMs: number | undefined): number {
    const due = handedOn - this.returned;
    if (due < this.size / 2 || due <= 0) return 0;
    let increment = due;
    if (rttMs !== undefined && this.size < this.max && nowMs - this.previousGrantAt < 2 * rttMs) {
      const grown = Math.min(this.size * 2, this.max);
      increment += grown - this.size;
      this.size = grown;
      // The next doubling needs fresh evidence at the new size.
      this.previousGrantAt = this.lastGrantAt = -Infinity;
    } else {
      this.previousGrantAt = this.lastGrantAt;
      this.lastGrantAt = nowMs;
    }
    this.returned = handedOn;
    this.limit += increment;
    return increment;
  }
}
