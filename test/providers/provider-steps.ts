/**
 * Drives a provider through its contract the way the CLI's poller would, with bounded loops, for
 * the provider tests that talk to a fake directly (no CLI in between).
 */
import { randomBytes } from 'node:crypto';
import type { CreateRequest, Host, HostRef, Provider } from '../../src/core/provider.js';

/** A create request with dummy user-data (API-only fakes do not boot it). */
export function request(name: string, overrides: Partial<CreateRequest> = {}): CreateRequest {
  return {
    name,
    tunnelId: randomBytes(6).toString('hex'),
    region: 'lon1',
    plan: 's-1vcpu-512mb-10gb',
    image: 'debian-12-x64',
    userData: Buffer.from('#cloud-config\nruncmd: []\n'),
    controlPort: 8123,
    ports: [8080],
    openPorts: [8080, 8123],
    firewall: false,
    ...overrides,
  };
}

/** Polls status until active with an IP (at most `attempts` times). */
export async function waitActive(provider: Provider, ref: HostRef, attempts = 20): Promise<Host> {
  let last: Host | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await provider.status(ref);
    if (last.status === 'active' && last.ip) return last;
    if (last.status === 'error') throw new Error(`status error: ${last.providerStatus}`);
  }
  throw new Error(`not active after ${attempts} polls (last: ${last?.providerStatus})`);
}

/** Repeats delete until 'done' (at most `attempts` steps); returns the number of steps. */
export async function deleteUntilDone(provider: Provider, ref: HostRef, attempts = 20): Promise<number> {
  for (let i = 1; i <= attempts; i++) {
    if ((await provider.delete(ref)) === 'done') return i;
  }
  throw new Error(`delete not done after ${attempts} steps`);
}

/** The promise's rejection, or a failure when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean; retryAfterMs?: number; status?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}
