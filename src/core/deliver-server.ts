/**
 * Staged start (docs/PROTOCOL.md §15): where the user-data cannot hold the exit node's server
 * (HTTPS mode at EC2), it holds only the server's SHA-256, and create PUTs the bytes to the node's
 * control port once it is up: TLS with the pinned key, the tunnel token. The node runs nothing
 * else until then, and accepts only the bytes whose hash it was made with.
 */
import { CodedError } from '../errors.js';
import { requestControl } from '../engine/transport/control-request.js';
import { hostPort } from './connection-info.js';
import { notYet, poll } from './poller.js';
import type { ReadinessOptions } from './readiness.js';

/** Where and how long, as for readiness; one attempt (connect, TLS, upload, answer) defaults to 60 s. */
export interface DeliveryOptions extends Omit<ReadinessOptions, 'firstIntervalMs'> {
  /** The server as the node runs it (brotli). */
  bytes: Buffer;
}

/**
 * Delivers the server, retrying while the node boots (refused, reset, timed out).
 * @throws CodedError `SERVER_DELIVERY_REFUSED` when the node answers no (401: token; 422: not the
 *   server it was made for), `TIMEOUT` when it never answered.
 */
export async function deliverServer(o: DeliveryOptions): Promise<void> {
  const url = `https://${hostPort(o.ip, o.controlPort)}`;
  await poll<void>(
    async () => {
      let status: number;
      let body: string;
      try {
        ({ status, body } = await requestControl({ url, path: '/server', method: 'PUT', body: o.bytes, token: o.token, trust: { pin: o.pin }, timeoutMs: o.attemptTimeoutMs ?? 60_000, signal: o.signal }));
      } catch (err) {
        return notYet(err, o.signal);
      }
      // 404: the server itself answers already (delivered by an earlier attempt whose answer was lost).
      if (status === 200 || status === 404) return { done: true, value: undefined };
      if (status === 401 || status === 422) throw new CodedError('SERVER_DELIVERY_REFUSED', `the exit node refused its server (${status}: ${body.trim().slice(0, 200)})`);
      return { done: false, detail: `PUT /server answered ${status}` };
    },
    {
      what: `the exit node at ${url} to take its server`,
      timeoutMs: o.timeoutMs,
      intervalMs: Math.min(100, o.intervalMs ?? 2000),
      maxIntervalMs: o.intervalMs ?? 2000,
      factor: 2,
      signal: o.signal,
      onWait: o.onWait,
    },
  );
}
