/**
 * Readiness: the exit node works when its tunnel server answers `GET /status` on the control port
 * over TLS with the pinned key, accepts our token, and returns the status JSON (PROTOCOL.md §12).
 * "The VM is running" is not enough: cloud-init may still be installing Node.
 */
import { requestControl } from '../engine/transport/control-request.js';
import { hostPort } from './connection-info.js';
import { notYet, poll, type PollOptions } from './poller.js';
import type { CertificateInfo } from '../engine/server/status-info.js';

/** What `GET /status` told us (the fields inletsctl uses; the server sends more). */
export interface ServerStatus {
  version: string;
  mode?: string;
  hostname?: string;
  startedAt?: string;
  /** HTTP mode: each Let's Encrypt domain's certificate state (PROTOCOL.md §12). */
  certificates?: CertificateInfo[];
}

export interface ReadinessOptions {
  ip: string;
  controlPort: number;
  token: string;
  /** `sha256:<hex>` pin of the server's public key. */
  pin: string;
  /** Overall limit in milliseconds. */
  timeoutMs: number;
  /** Longest interval between checks in milliseconds (`--poll`). Default 2000. */
  intervalMs?: number;
  /**
   * First interval in milliseconds, doubling up to `intervalMs`. Default 100: a local exit node
   * answers within a second of the first refused connection, and a cloud one is not slowed.
   */
  firstIntervalMs?: number;
  /** Limit for one check, in milliseconds. Default 5000. */
  attemptTimeoutMs?: number;
  signal?: AbortSignal;
  onWait?: PollOptions['onWait'];
}

/**
 * Checks until the server answers properly.
 * @throws CodedError `TIMEOUT` with the last reason (connection refused, 401, pin mismatch…).
 */
export async function waitUntilReady(options: ReadinessOptions): Promise<ServerStatus> {
  const url = `https://${hostPort(options.ip, options.controlPort)}`;
  return poll<ServerStatus>(
    async () => {
      try {
        const res = await requestControl({
          url,
          path: '/status',
          token: options.token,
          trust: { pin: options.pin },
          timeoutMs: options.attemptTimeoutMs ?? 5000,
          signal: options.signal,
        });
        if (res.status !== 200) return { done: false, detail: `GET /status answered ${res.status}` };
        const status = parseStatus(res.body);
        return status ? { done: true, value: status } : { done: false, detail: 'GET /status did not return the status JSON' };
      } catch (err) {
        return notYet(err, options.signal);
      }
    },
    {
      what: `the tunnel server at ${url} to answer`,
      timeoutMs: options.timeoutMs,
      intervalMs: Math.min(options.firstIntervalMs ?? 100, options.intervalMs ?? 2000),
      maxIntervalMs: options.intervalMs ?? 2000,
      factor: 2,
      signal: options.signal,
      onWait: options.onWait,
    },
  );
}

function parseStatus(body: string): ServerStatus | undefined {
  try {
    const value = JSON.parse(body) as Partial<ServerStatus> | null;
    return value && typeof value === 'object' && typeof value.version === 'string' ? (value as ServerStatus) : undefined;
  } catch {
    return undefined;
  }
}
