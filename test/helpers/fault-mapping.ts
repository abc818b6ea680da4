/**
 * The error mapping every REST provider's own test checks the same way: each injected fault on its
 * list call (429, 500, a dropped connection, a hang) becomes a retryable ProviderError with the
 * right code, quoting the cloud's text (or the request) and never the credential; a 429's
 * Retry-After becomes `retryAfterMs`.
 */
import { expect } from 'vitest';
import type { Provider } from '../../src/core/provider.js';
import { rejection } from '../providers/provider-steps.js';

type Fault = 'rate-limit' | 'server-error' | 'drop' | 'hang';

/** The part of a fake this needs. */
interface Injectable {
  inject(fault: { kind: Fault; op: string; retryAfterSeconds?: number | null }): void;
}

/** Each fault on `op` during `provider.list()`, with what its message must contain. */
export async function expectListFaultsMapped(
  fake: Injectable,
  provider: Provider,
  o: { op: string; secret: string; texts: Record<Fault, string> },
): Promise<void> {
  const codes: Record<Fault, string> = { 'rate-limit': 'RATE_LIMITED', 'server-error': 'API_UNAVAILABLE', drop: 'NETWORK', hang: 'NETWORK' };
  for (const kind of Object.keys(codes) as Fault[]) {
    fake.inject({ kind, op: o.op, retryAfterSeconds: 3 });
    const err = await rejection(provider.list());
    expect(err, kind).toMatchObject({ code: codes[kind], retryable: true });
    expect(err.message, kind).toContain(o.texts[kind]);
    expect(err.message, kind).not.toContain(o.secret);
    if (kind === 'rate-limit') expect(err.retryAfterMs).toBe(3000);
  }
}
