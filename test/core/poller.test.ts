import { describe, expect, it } from 'vitest';
import { CodedError, ProviderError } from '../../src/errors.js';
import { abortableSleep, formatDuration, poll, retryCall } from '../../src/core/poller.js';

/** The error a promise rejects with; fails the test when it resolves. */
async function rejection(p: Promise<unknown>): Promise<CodedError & { retryable?: boolean }> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as CodedError & { retryable?: boolean },
  );
}

/** A fake clock: sleeping advances it and records the delays asked for. */
function fakeTime() {
  let t = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw signal.reason;
      sleeps.push(ms);
      t += ms;
    },
    advance: (ms: number) => (t += ms),
  };
}

describe('poll', () => {
  it('returns the value of the first attempt that is done', async () => {
    const clock = fakeTime();
    let calls = 0;
    const value = await poll(async () => (++calls === 3 ? { done: true, value: 'up' } : { done: false }), { what: 'x', timeoutMs: 60_000, ...clock });
    expect(value).toBe('up');
    expect(calls).toBe(3);
  });

  it('backs off by the factor up to the cap', async () => {
    const clock = fakeTime();
    let calls = 0;
    await poll(async () => (++calls === 7 ? { done: true, value: 1 } : { done: false }), {
      what: 'x',
      timeoutMs: 600_000,
      intervalMs: 1000,
      maxIntervalMs: 4000,
      factor: 2,
      ...clock,
    });
    expect(clock.sleeps).toEqual([1000, 2000, 4000, 4000, 4000, 4000]);
  });

  it('throws TIMEOUT with the last detail instead of returning when time runs out', async () => {
    const clock = fakeTime();
    let calls = 0;
    const err = await rejection(poll(async () => ({ done: false, detail: `status new #${++calls}` }), { what: 'the VM to become active', timeoutMs: 10_000, intervalMs: 3000, factor: 1, ...clock }));
    expect(err).toBeInstanceOf(CodedError);
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toContain('the VM to become active');
    expect(err.message).toContain(`status new #${calls}`);
    // 3 + 3 + 3 + 1 (clipped to the deadline): a last attempt happens right at the deadline.
    expect(clock.sleeps).toEqual([3000, 3000, 3000, 1000]);
    expect(calls).toBe(5);
  });

  it('honours Retry-After of a rate-limited call instead of its own interval', async () => {
    const clock = fakeTime();
    let calls = 0;
    const value = await poll(
      async () => {
        calls++;
        if (calls === 1) throw new ProviderError('fake', 'RATE_LIMITED', 'slow down', { status: 429, retryAfterMs: 7000 });
        return { done: true, value: 'ok' };
      },
      { what: 'x', timeoutMs: 60_000, intervalMs: 1000, ...clock },
    );
    expect(value).toBe('ok');
    expect(clock.sleeps).toEqual([7000]);
  });

  it('retries retryable provider errors and rethrows others at once', async () => {
    const clock = fakeTime();
    let calls = 0;
    const value = await poll(
      async () => {
        calls++;
        if (calls < 3) throw new ProviderError('fake', 'API_UNAVAILABLE', 'HTTP 503', { status: 503 });
        return { done: true, value: calls };
      },
      { what: 'x', timeoutMs: 60_000, intervalMs: 500, ...clock },
    );
    expect(value).toBe(3);

    let fatalCalls = 0;
    const err = await rejection(poll(
      async () => {
        fatalCalls++;
        throw new ProviderError('fake', 'AUTH', 'token refused', { status: 401 });
      },
      { what: 'x', timeoutMs: 60_000, ...clock },
    ));
    expect(err.code).toBe('AUTH');
    expect(fatalCalls).toBe(1);

    const plain = await rejection(poll(async () => {
      throw new Error('bug');
    }, { what: 'x', timeoutMs: 60_000, ...clock }));
    expect(plain.message).toBe('bug');
  });

  it('stops when the signal aborts, with the signal reason, even mid-sleep (real timers)', async () => {
    const controller = new AbortController();
    const reason = new CodedError('INTERRUPTED', 'interrupted by SIGINT');
    setTimeout(() => controller.abort(reason), 50);
    const started = Date.now();
    const err = await rejection(poll(async () => ({ done: false }), { what: 'x', timeoutMs: 60_000, intervalMs: 30_000, signal: controller.signal }));
    expect(err).toBe(reason);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('does not start when already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new CodedError('INTERRUPTED', 'stop'));
    let calls = 0;
    const err = await rejection(poll(async () => ({ done: !!++calls, value: 1 }), { what: 'x', timeoutMs: 1000, signal: controller.signal }));
    expect(err.code).toBe('INTERRUPTED');
    expect(calls).toBe(0);
  });

  it('calls onWait before each sleep with the delay and the reason', async () => {
    const clock = fakeTime();
    const seen: string[] = [];
    let calls = 0;
    await poll(async () => (++calls === 3 ? { done: true, value: 0 } : { done: false, detail: `d${calls}` }), {
      what: 'x',
      timeoutMs: 60_000,
      intervalMs: 100,
      factor: 1,
      onWait: ({ attempt, delayMs, detail }) => seen.push(`${attempt}:${delayMs}:${detail}`),
      ...clock,
    });
    expect(seen).toEqual(['1:100:d1', '2:100:d2']);
  });
});

describe('retryCall', () => {
  it('retries only what retryIf allows, and makes the rest final', async () => {
    const clock = fakeTime();
    let calls = 0;
    const err = await rejection(retryCall(
      async () => {
        calls++;
        throw new ProviderError('fake', 'API_UNAVAILABLE', 'HTTP 500', { status: 500 });
      },
      { what: 'create', timeoutMs: 60_000, retryIf: (e) => e.code === 'RATE_LIMITED', ...clock },
    ));
    expect(calls).toBe(1);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.code).toBe('API_UNAVAILABLE');
    expect(err.retryable).toBe(false);

    calls = 0;
    const value = await retryCall(
      async () => {
        if (++calls === 1) throw new ProviderError('fake', 'RATE_LIMITED', '429', { status: 429, retryAfterMs: 2000 });
        return 'created';
      },
      { what: 'create', timeoutMs: 60_000, retryIf: (e) => e.code === 'RATE_LIMITED', ...clock },
    );
    expect(value).toBe('created');
    expect(calls).toBe(2);
  });

  it('gives up with TIMEOUT when the call keeps failing', async () => {
    const clock = fakeTime();
    const err = await rejection(retryCall(async () => {
      throw new ProviderError('fake', 'NETWORK', 'ECONNRESET');
    }, { what: 'list', timeoutMs: 5000, intervalMs: 1000, ...clock }));
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toContain('ECONNRESET');
  });
});

describe('abortableSleep and formatDuration', () => {
  it('rejects at once when already aborted', async () => {
    const c = new AbortController();
    c.abort(new Error('gone'));
    await expect(abortableSleep(10_000, c.signal)).rejects.toThrow('gone');
  });

  it('formats durations briefly', () => {
    expect(formatDuration(750)).toBe('750 ms');
    expect(formatDuration(2500)).toBe('2.5 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(600_000)).toBe('10 min');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
  });
});
