/**
 * Wrong tokens per source (PROTOCOL.md §13): after a few failures, every request from that source
 * waits before its token is looked at, twice as long after each further failure, up to a maximum.
 * Other sources are never delayed. The table is bounded: the least recently failed source is
 * forgotten first, and a source that stays quiet for 10 minutes starts afresh.
 */

/** Failures a source may make before its requests wait. */
const FREE_FAILURES = 3;
/** The first wait, in ms; it doubles with each further failure. */
const FIRST_DELAY_MS = 250;
/** A source with no failure for this long is forgotten, in ms. */
const FORGET_MS = 10 * 60_000;

export class AuthThrottle {
  readonly #failures = new Map<string, { n: number; at: number }>();

  /**
   * @param maxDelayMs the longest wait, in ms (default 10000).
   * @param maxSources sources remembered at once (default 4096, about 100 bytes each).
   */
  constructor(
    readonly maxDelayMs = 10_000,
    readonly maxSources = 4096,
  ) {}

  /** How long a request from `source` waits before its token is checked, in ms. */
  delay(source: string): number {
    const f = this.#failures.get(source);
    if (!f || Date.now() - f.at > FORGET_MS) return 0;
    return f.n < FREE_FAILURES ? 0 : Math.min(this.maxDelayMs, FIRST_DELAY_MS * 2 ** (f.n - FREE_FAILURES));
  }

  /** `source` sent a missing or wrong token. */
  failed(source: string): void {
    const f = this.#failures.get(source);
    const n = f && Date.now() - f.at <= FORGET_MS ? f.n + 1 : 1;
    // delete and set again: Map order is then least recently failed first
    this.#failures.delete(source);
    if (this.#failures.size >= this.maxSources) this.#failures.delete(this.#failures.keys().next().value!);
    this.#failures.set(source, { n, at: Date.now() });
  }

  /** `source` sent the right token. */
  succeeded(source: string): void {
    this.#failures.delete(source);
  }

  /** Sources remembered now. */
  get size(): number {
    return this.#failures.size;
  }
}
