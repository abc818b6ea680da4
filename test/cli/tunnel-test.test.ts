// `inletsctl test` against a real in-process exit node: TLS control plane with a pinned key, real
// public ports on 127.0.0.1, the real engine client. Figures must be measured, failures clean.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickTunnel } from '../../src/cli/commands/test.js';
import { runTunnelTest, type TunnelTestTarget } from '../../src/core/tunnel-test.js';
import { parsePortRanges } from '../../src/engine/port-ranges.js';
import { TunnelServer } from '../../src/engine/server/tunnel-server.js';
import { generateSelfSigned } from '../../src/engine/tls/self-signed.js';

/** The error `work` fails with; fails the test if it succeeds. */
async function rejection(work: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await work;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a failure, but it succeeded');
}

const token = randomBytes(32).toString('hex');
const tls = generateSelfSigned({ ips: ['127.0.0.1'] });
let server: TunnelServer;
let target: TunnelTestTarget;

/** Open servers and sockets of this process, by kind, so tests can prove nothing was left running. */
function openHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) if (/TCP|TLS|Pipe/.test(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/** Waits (bounded) until `check` passes; returns its last failure otherwise. */
async function eventually(check: () => void | Promise<void>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A snapshot of {@link openHandles} once it stopped changing (earlier tests' sockets closing). */
async function settledHandles(): Promise<Record<string, number>> {
  let last = openHandles();
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = openHandles();
    if (JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
  return last;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
}

beforeAll(async () => {
  server = new TunnelServer({ token, controlAddr: '127.0.0.1', controlPort: 0, dataAddr: '127.0.0.1', tls: { certPem: tls.certPem, keyPem: tls.keyPem } });
  const { port } = await server.start();
  target = { name: 'local-test', ip: '127.0.0.1', token, pin: tls.pin, controlPort: port };
});
afterAll(async () => {
  await server?.stop();
});

describe('runTunnelTest', () => {
  it('measures round trip and throughput through the public port, then cleans up', async () => {
    const before = await settledHandles();
    const lines: string[] = [];
    const report = await runTunnelTest(target, { pings: 10, log: (l) => lines.push(l) });
    expect(report.name).toBe('local-test');
    expect(report.address).toBe(`127.0.0.1:${report.port}`);
    expect(report.checksumOk).toBe(true);
    expect(report.roundTrip.samples).toBe(10);
    expect(report.roundTrip.p50Ms).toBeGreaterThan(0);
    expect(report.roundTrip.minMs).toBeLessThanOrEqual(report.roundTrip.p50Ms);
    expect(report.roundTrip.maxMs).toBeGreaterThanOrEqual(report.roundTrip.p50Ms);
    expect(report.throughput.bytes).toBe(16 * 1024 * 1024);
    expect(report.throughput.seconds).toBeGreaterThan(0);
    expect(report.throughput.mbPerSec).toBeGreaterThan(0);
    expect(report.throughput.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.firstByteMs).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(token);

    // The client has left the server, its public port is closed, and no socket of ours is left.
    await eventually(() => expect(server.status().clients).toEqual([]));
    await eventually(async () => expect(await refused(report.port)).toBe(true));
    await eventually(() => expect(openHandles()).toEqual(before));
  });

  it('uses the port it is given', async () => {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const report = await runTunnelTest(target, { port, pings: 3, transferBytes: 256 * 1024 });
    expect(report.port).toBe(port);
    expect(report.address).toBe(`127.0.0.1:${port}`);
    await eventually(() => expect(server.status().clients).toEqual([]));
    await eventually(async () => expect(await refused(port)).toBe(true));
  });

  it('fails clearly on a wrong token, without printing it, leaving nothing running', async () => {
    const before = await settledHandles();
    const wrong = randomBytes(32).toString('hex');
    const err = await rejection(runTunnelTest({ ...target, token: wrong }, { pings: 3 }));
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('TEST_CONTROL_FAILED');
    expect(err.message).toMatch(/token|auth/i);
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain(token);
    await eventually(() => expect(server.status().clients).toEqual([]));
    await eventually(() => expect(openHandles()).toEqual(before));
  });

  it('fails on a pin that does not match the server key', async () => {
    const other = generateSelfSigned();
    const err = await rejection(runTunnelTest({ ...target, pin: other.pin }, { pings: 3 }));
    expect(err.code).toBe('TEST_CONTROL_FAILED');
    expect(err.message).toMatch(/pin/i);
    expect(err.message).not.toContain(token);
  });

  it('fails when nothing listens on the control port', async () => {
    const gone = new TunnelServer({ token, controlAddr: '127.0.0.1', controlPort: 0, dataAddr: '127.0.0.1', tls: { certPem: tls.certPem, keyPem: tls.keyPem } });
    const { port } = await gone.start();
    await gone.stop();
    const err = await rejection(runTunnelTest({ ...target, controlPort: port }, { pings: 3 }));
    expect(err.code).toBe('TEST_CONTROL_FAILED');
  });

  it('reports a port the node refuses, and a record without an IP', async () => {
    const strict = new TunnelServer({
      token,
      controlAddr: '127.0.0.1',
      controlPort: 0,
      dataAddr: '127.0.0.1',
      tls: { certPem: tls.certPem, keyPem: tls.keyPem },
      allowPorts: parsePortRanges('31000-31010'),
    });
    const { port } = await strict.start();
    try {
      const err = await rejection(runTunnelTest({ ...target, controlPort: port }, { port: 30_999, pings: 3 }));
      expect(err.code).toBe('TEST_PORT_REFUSED');
      expect(err.message).toContain('30999');
      await eventually(() => expect(strict.status().clients).toEqual([]));
    } finally {
      await strict.stop();
    }
    const noIp = await rejection(runTunnelTest({ ...target, ip: undefined }));
    expect(noIp.code).toBe('TEST_NOT_READY');
  });
});

describe('pickTunnel', () => {
  const rec = (name: string, createdAt: string) => ({ name, createdAt });
  it('picks the named record, else the most recent, and explains an empty state', () => {
    const records = [rec('b', '2025-01-02T00:00:00Z'), rec('c', '2025-03-01T00:00:00Z'), rec('a', '2025-01-01T00:00:00Z')];
    expect(pickTunnel(records, 'a', '/s').name).toBe('a');
    expect(pickTunnel(records, undefined, '/s').name).toBe('c');
    expect(() => pickTunnel(records, 'zzz', '/s')).toThrow(expect.objectContaining({ code: 'NOT_IN_STATE' }));
    expect(() => pickTunnel([], undefined, '/s')).toThrow(expect.objectContaining({ code: 'NO_TUNNELS', message: expect.stringContaining('inletsctl create') }));
  });
});
