/**
 * The receiving half of per-stream flow control (docs/PROTOCOL.md section 7): how much the peer may
 * still send, when to grant more, and how big the window should be (docs/design/window-sizing.md).
 */

/** Shortest span over which the hand-on rate is measured for sizing, in ms. */
const MIN_SPAN_MS = 10;
/** A stream alone on the session may buffer this much time at its rate, in ms, to ride out scheduling stalls. */
const ALONE_BUFFER_MS = 4;

export class ReceiveWindow {
  /** Current window, in bytes: the most this side means to hold received but not yet handed on. */
  size: number;
  readonly #initial: number;
  readonly #max: number;
  /** Total bytes the peer may have sent so far (initial window plus every grant). */
  #limit: number;
  /** Total bytes received. */
  #received = 0;
  /** Start of the current rate measurement: time in ms (monotonic clock), bytes handed on, session interleavings. */
  #spanStartAt = NaN;
  #spanStartBytes = 0;
  #spanStartInterleavings = 0;

  /**
   * @param initial window the peer starts with, in bytes (must equal the peer's idea of it)
   * @param max the window never grows beyond this, in bytes
   */
  constructor(
    initial: number,
    max: number,
  ) {
    this.#initial = initial;
    this.#max = max;
    this.size = initial;
    this.#limit = initial;
  }

  /** Counts `length` received bytes; false when they exceed the credit granted (FLOW_CONTROL). */
  receive(length: number): boolean {
    if (this.#received + length > this.#limit) return false;
    this.#received += length;
    return true;
  }

  /** True when enough was handed on for a grant to be due (a cheap test before grant()). */
  due(handedOn: number): boolean {
    return handedOn + this.size - this.#limit >= this.size / 2;
  }

  /**
   * Given the total bytes handed on so far, returns the credit increment to send in a WINDOW frame,
   * or 0 while it would be less than half the window.
   *
   * Sizing, once per span of at least two round trips and 10 ms, from the rate bytes were handed
   * on during it: the window doubles (up to max) while it is below 2 × rate × RTT, the least that
   * keeps a sender busy when credit comes back every half window: the sender is then waiting on
   * credit, not on the link. A stream that had the session to itself during the span may also grow
   * to hold ALONE_BUFFER_MS of its rate, which rides out scheduling stalls of either process. When
   * other streams' data arrived in between (they share the transport's queue, and every byte
   * queued ahead of them delays them) a larger window shrinks back by granting less.
   * Averaging over the span keeps a burst (this side catching up on a backlog) from looking like a
   * fast link.
   *
   * @param handedOn total bytes handed on since the stream opened
   * @param nowMs a monotonic clock, in ms
   * @param rttMs the link's round-trip time in ms, undefined while unknown (no resizing then)
   * @param interleavings a session counter that changes whenever another stream's data arrived
   */
  grant(handedOn: number, nowMs: number, rttMs: number | undefined, interleavings = 0): number {
    if (!this.due(handedOn)) return 0;
    if (Number.isNaN(this.#spanStartAt)) this.#startSpan(nowMs, handedOn, interleavings);
    else if (rttMs !== undefined && nowMs - this.#spanStartAt >= Math.max(2 * rttMs, MIN_SPAN_MS)) {
      const rate = (handedOn - this.#spanStartBytes) / (nowMs - this.#spanStartAt); // bytes per ms
      const alone = interleavings === this.#spanStartInterleavings;
      const target = Math.max(2 * rate * rttMs, alone ? rate * ALONE_BUFFER_MS : 0);
      if (this.size < target && this.size < this.#max) this.size = Math.min(this.size * 2, this.#max);
      else if (!alone && this.size > this.#initial) {
        let size = this.#initial;
        while (size < target) size *= 2;
        this.size = Math.min(size, this.size);
      }
      this.#startSpan(nowMs, handedOn, interleavings);
    }
    // Credit already granted cannot be taken back: a smaller window takes effect as it is used.
    const increment = handedOn + this.size - this.#limit;
    if (increment < this.size / 2) return 0;
    this.#limit += increment;
    return increment;
  }

  #startSpan(nowMs: number, handedOn: number, interleavings: number): void {
    this.#spanStartAt = nowMs;
    this.#spanStartBytes = handedOn;
    this.#spanStartInterleavings = interleavings;
  }
}
