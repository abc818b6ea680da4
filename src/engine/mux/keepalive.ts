/**
 * When to send extra PINGs early in a session, in ms after its start. Window growth needs the
 * link's own round trip, the lowest PING time seen: PINGs that queue behind bulk data or meet a
 * cold process measure more than the link, so a few spread-out samples find a quiet moment.
 */
const PROBES_MS = [500, 2000, 5000];
/** PINGs sent back to back at the start (each after the previous answer). */
const QUICK_PROBES = 3;

/**
 * Keepalive timing of docs/PROTOCOL.md section 8 with a few timers per session (never one per
 * frame): one sends a PING every interval, one fires when no byte at all has arrived for the
 * timeout, and one sends the early round-trip probes.
 */
export class Keepalive {
  readonly #timeoutMs: number;
  readonly #sendPing: () => void;
  readonly #onTimeout: () => void;
  readonly #startedAt = Date.now();
  #lastReceivedAt = this.#startedAt;
  #suspended = false;
  #pingTimer: NodeJS.Timeout | null = null;
  #deadlineTimer: NodeJS.Timeout | null = null;
  #probeTimer: NodeJS.Timeout | null = null;
  #probesLeft = [...PROBES_MS];
  #quickProbes = QUICK_PROBES;

  /**
   * @param intervalMs time between PINGs, in ms
   * @param timeoutMs silence after which `onTimeout` runs, in ms
   */
  constructor(
    intervalMs: number,
    timeoutMs: number,
    sendPing: () => void,
    onTimeout: () => void,
  ) {
    this.#timeoutMs = timeoutMs;
    this.#sendPing = sendPing;
    this.#onTimeout = onTimeout;
    this.#pingTimer = setInterval(this.#sendPing, intervalMs);
    this.#pingTimer.unref();
    this.#arm(timeoutMs);
    this.#nextProbe();
    this.answered();
  }

  /** A PING was answered: while quick probes remain, send the next one. */
  answered(): void {
    if (this.#quickProbes > 0 && this.#pingTimer) {
      this.#quickProbes--;
      this.#sendPing();
    }
  }

  #nextProbe(): void {
    const at = this.#probesLeft.shift();
    if (at === undefined) return;
    this.#probeTimer = setTimeout(() => {
      this.#sendPing();
      this.#nextProbe();
    }, Math.max(0, this.#startedAt + at - Date.now()));
    this.#probeTimer.unref();
  }

  /** Something arrived from the peer. Called per received chunk, so it only stores a timestamp. */
  received(): void {
    this.#lastReceivedAt = Date.now();
  }

  /** This side stopped reading on purpose (memory budget): silence then proves nothing. */
  suspend(): void {
    this.#suspended = true;
  }

  /** Reading again: the timeout counts from now. */
  resume(): void {
    this.#suspended = false;
    this.#lastReceivedAt = Date.now();
  }

  stop(): void {
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    if (this.#deadlineTimer) clearTimeout(this.#deadlineTimer);
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    this.#pingTimer = this.#deadlineTimer = this.#probeTimer = null;
  }

  #arm(delayMs: number): void {
    this.#deadlineTimer = setTimeout(this.#check, delayMs);
    this.#deadlineTimer.unref();
  }

  readonly #check = (): void => {
    this.#deadlineTimer = null;
    if (this.#pingTimer === null) return;
    const silentFor = Date.now() - this.#lastReceivedAt;
    if (this.#suspended) return this.#arm(this.#timeoutMs);
    if (silentFor >= this.#timeoutMs) {
      this.stop();
      this.#onTimeout();
    } else this.#arm(this.#timeoutMs - silentFor);
  };
}
