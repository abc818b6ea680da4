import type { Duplex } from 'node:stream';

/**
 * Resolves once `stream` has closed, or after `ms` milliseconds, whichever comes first: lets a
 * goodbye (GOAWAY, websocket close) reach the peer before a process exits, without hanging on it.
 */
export function closedWithin(stream: Duplex, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (stream.closed) return resolve();
    const timer = setTimeout(resolve, ms);
    stream.once('close', () => (clearTimeout(timer), resolve()));
  });
}
