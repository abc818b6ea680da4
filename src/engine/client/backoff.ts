/**
 * Reconnect delays (PROTOCOL.md §9): exponential from `initialMs`, doubling to `maxMs`, each wait
 * with ±`jitter` random spread; reset once a session has lasted `resetAfterMs`.
 */
export interface BackoffOptions {
  /** First wait, in ms. Default 500. */
  initialMs?: number;
  /** Cap on the wait before jitter, in ms. Default 30000. */
  maxMs?: number;
  /** Relative spread, 0–1. Default 0.2 (±20 %). */
  jitter?: number;
  /** A session that lasted this long (ms) resets the delay. Default 30000. */
  resetAfterMs?: number;
}

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #jitter: number;
  readonly resetAfterMs: number;
  #attempt = 0;

  readonly #random: () => number;

  /** `random` returns values in [0, 1) (tests pass a fixed one). */
  constructor(opts: BackoffOptions = {}, random: () => number = Math.random) {
    this.#random = random;
    this.#initialMs = opts.initialMs ?? 500;
    this.#maxMs = opts.maxMs ?? 30_000;
    this.#jitter = opts.jitter ?? 0.2;
    this.resetAfterMs = opts.resetAfterMs ?? 30_000;
  }

  /** The next wait in ms, growing with each call until the cap. */
  next(): number {
    const base = Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#attempt++, 30));
    return Math.round(base * (1 + this.#jitter * (2 * this.#random() - 1)));
  }

  /** Starts again from `initialMs`. */
  reset(): void {
    this.#attempt = 0;
  }

  /** Resets when a session lasted long enough to count as healthy (§9). */
  sessionEnded(lastedMs: number): void {
    if (lastedMs >= this.resetAfterMs) this.reset();
  }
}
