/**
 * Keepalive timing of docs/PROTOCOL.md section 8 with two timers per session (never one per frame):
 * one sends a PING every interval, the other fires when no byte at all has arrived for the timeout.
 */
export class Keepalive {
  private lastReceivedAt = Date.now();
  private suspended = false;
  private pingTimer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;

  /**
   * @param intervalMs time between PINGs, in ms
   * @param timeoutMs silence after which `onTimeout` runs, in ms
   */
  constructor(
    intervalMs: number,
    private readonly timeoutMs: number,
    private readonly sendPing: () => void,
    private readonly onTimeout: () => void,
  ) {
    this.pingTimer = setInterval(this.sendPing, intervalMs);
    this.pingTimer.unref();
    this.arm(timeoutMs);
  }

  /** Something arrived from the peer. Called per received chunk, so it only stores a timestamp. */
  received(): void {
    this.lastReceivedAt = Date.now();
  }

  /** This side stopped reading on purpose (memory budget): silence then proves nothing. */
  suspend(): void {
    this.suspended = true;
  }

  /** Reading again: the timeout counts from now. */
  resume(): void {
    this.suspended = false;
    this.lastReceivedAt = Date.now();
  }

  stop(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.pingTimer = this.deadlineTimer = null;
  }

  private arm(delayMs: number): void {
    this.deadlineTimer = setTimeout(this.check, delayMs);
    this.deadlineTimer.unref();
  }

  private readonly check = (): void => {
    this.deadlineTimer = null;
    if (this.pingTimer === null) return;
    const silentFor = Date.now() - this.lastReceivedAt;
    if (this.suspended) return this.arm(this.timeoutMs);
    if (silentFor >= this.timeoutMs) {
      this.stop();
      this.onTimeout();
    } else this.arm(this.timeoutMs - silentFor);
  };
}
