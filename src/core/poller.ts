/**
 * The one way inletsctl waits: for a VM to become active, for the tunnel server to answer, for a
 * deletion to finish, and for a retryable API call to succeed.
 *
 * Intervals grow by `factor` up to `maxIntervalMs`; a {@link ProviderError} that asks us to wait
 * (`retryAfterMs`, from 429 Retry-After) is honoured; a non-retryable error ends the wait at once.
 * A wait that runs out of time THROWS a `TIMEOUT` error: a poll never returns success it did not see.
 */
import { CodedError, ProviderError, type ProviderErrorCode } from '../errors.js';

/** What one attempt found: done with a value, or not yet (with a word on why, for messages). */
export type PollStep<T> = { done: true; value: T } | { done: false; detail?: string };

/**
 * An attempt that threw (refused, reset, timed out, pin mismatch: a node may still be booting):
 * not done yet, keeping the reason; an abort is rethrown.
 */
export function notYet(err: unknown, signal?: AbortSignal): { done: false; detail: string } {
  if (signal?.aborted) throw signal.reason ?? err;
  const code = err instanceof CodedError ? `${err.code}: ` : '';
  return { done: false, detail: `${code}${err instanceof Error ? err.message : String(err)}` };
}

export interface PollOptions {
  /** What is being waited for, for messages: "the VM to become active". */
  what: string;
  /** Overall limit in milliseconds, from the first attempt. */
  timeoutMs: number;
  /** First interval in milliseconds. Default 2000. */
  intervalMs?: number;
  /** Interval cap in milliseconds. Default max(intervalMs, 10000). */
  maxIntervalMs?: number;
  /** Growth of the interval after each attempt. Default 1.5. */
  factor?: number;
  /** Stops the wait; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Also stop an attempt in flight when the signal aborts or the deadline passes (the call goes on
   * in the background; its answer is ignored). For reads and deletes, which are safe to abandon;
   * never for create, whose answer holds the id of what it made. Default false.
   */
  abortInFlight?: boolean;
  /** Called before each sleep (for progress and tests): attempt number from 1, the delay, and why. */
  onWait?: (info: { attempt: number; delayMs: number; detail?: string; error?: unknown }) => void;
  /** Clock and sleep, replaceable in tests. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Calls `attempt` until it reports done, sleeping between attempts.
 *
 * Errors thrown by `attempt`: a retryable {@link ProviderError} (429, 5xx, network) is retried after
 * its `retryAfterMs` or the current interval; anything else is rethrown at once.
 *
 * @throws CodedError `TIMEOUT` when `timeoutMs` passes first, naming `what` and the last detail.
 */
export async function poll<T>(attempt: (n: number) => Promise<PollStep<T>>, options: PollOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  const factor = options.factor ?? 1.5;
  let interval = options.intervalMs ?? 2000;
  const maxInterval = options.maxIntervalMs ?? Math.max(interval, 10_000);
  const deadline = now() + options.timeoutMs;
  let lastDetail: string | undefined;

  for (let n = 1; ; n++) {
    throwIfAborted(options.signal);
    let delay = interval;
    let error: unknown;
    try {
      const step = options.abortInFlight ? await bounded(attempt(n), deadline - now(), options) : await attempt(n);
      if (step.done) return step.value;
      lastDetail = step.detail;
    } catch (err) {
      const providerError = asProviderError(err);
      if (!providerError?.retryable) throw err;
      error = err;
      lastDetail = providerError.message;
      if (providerError.retryAfterMs !== undefined) delay = Math.max(providerError.retryAfterMs, 0);
    }
    throwIfAborted(options.signal);
    const remaining = deadline - now();
    if (remaining <= 0) {
      const why = lastDetail ? ` (last: ${lastDetail})` : '';
      throw new CodedError('TIMEOUT', `gave up waiting for ${options.what} after ${formatDuration(options.timeoutMs)}${why}`, {
        cause: error,
      });
    }
    // Sleep no later than the deadline, so one last attempt happens right at it.
    const wait = Math.min(delay, remaining);
    options.onWait?.({ attempt: n, delayMs: wait, detail: lastDetail, error });
    await sleep(wait, options.signal);
    interval = Math.min(interval * factor, maxInterval);
  }
}

/** `work`, unless the signal aborts or `ms` pass first (then a TIMEOUT naming `what`). */
function bounded<T>(work: Promise<T>, ms: number, options: PollOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const signal = options.signal;
    if (signal?.aborted) return reject(abortReason(signal));
    const timer = setTimeout(() => {
      finish();
      reject(new CodedError('TIMEOUT', `gave up waiting for ${options.what} after ${formatDuration(options.timeoutMs)} (a call was still in flight)`));
    }, Math.max(ms, 0));
    const onAbort = () => {
      finish();
      reject(abortReason(signal!));
    };
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        finish();
        resolve(v);
      },
      (err: unknown) => {
        finish();
        reject(err);
      },
    );
  });
}

/**
 * Makes one API call, retrying it while it fails with a retryable {@link ProviderError}, within
 * `timeoutMs`. Use only for calls that are safe to repeat (reads, deletes), or with `retryIf` to
 * narrow which errors are retried (create retries only when the API refused the request: 429).
 */
export async function retryCall<T>(
  call: () => Promise<T>,
  options: PollOptions & { retryIf?: (err: ProviderError) => boolean },
): Promise<T> {
  return poll<T>(async () => {
    try {
      return { done: true, value: await call() };
    } catch (err) {
      const providerError = asProviderError(err);
      if (providerError?.retryable && options.retryIf && !options.retryIf(providerError)) {
        // Not safe to repeat: surface it as final.
        throw new ProviderError(providerError.provider, providerError.code as ProviderErrorCode, providerError.message, {
          status: providerError.status,
          retryable: false,
          cause: err,
        });
      }
      throw err;
    }
  }, options);
}

/**
 * `err` as a {@link ProviderError}, also when it comes from another copy of src/errors.ts (a
 * provider module bundled on its own, loaded through INLETSCTL_EXTRA_PROVIDERS), where
 * `instanceof` fails: recognised by its name and fields.
 */
export function asProviderError(err: unknown): ProviderError | undefined {
  if (err instanceof ProviderError) return err;
  const e = err as Partial<ProviderError> | null;
  if (err instanceof Error && e?.name === 'ProviderError' && typeof e.code === 'string' && typeof e.provider === 'string' && typeof e.retryable === 'boolean') {
    return err as ProviderError;
  }
  return undefined;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortReason(signal);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new CodedError('ABORTED', 'the operation was cancelled');
}

/** "750 ms", "2.5 s", "42 s", "10 min", "2 min 5 s": short human text for a duration in milliseconds. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const min = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${min} min ${s} s` : `${min} min`;
}
