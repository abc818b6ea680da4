/** Readiness checks start fast and back off to --poll (issue 14, item 11). */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitUntilReady } from '../../src/core/readiness.js';

/** A loopback port with nothing listening: every check is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('waitUntilReady', () => {
  it('checks again after 100 ms, doubling up to the poll interval, and names the last reason at the timeout', async () => {
    const delays: number[] = [];
    const err = await waitUntilReady({
      ip: '127.0.0.1',
      controlPort: await closedPort(),
      token: 't',
      pin: `sha256:${'0'.repeat(64)}`,
      timeoutMs: 2500,
      intervalMs: 800,
      onWait: ({ delayMs }) => delays.push(delayMs),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TIMEOUT' });
    expect((err as Error).message).toMatch(/ECONNREFUSED|refused/i);
    // The last sleep is cut short by the deadline; the ones before follow the schedule.
    expect(delays.slice(0, 4)).toEqual([100, 200, 400, 800]);
    expect(Math.max(...delays)).toBe(800);
  });
});
