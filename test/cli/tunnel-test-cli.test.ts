// `inletsctl test` as a user runs it: the built CLI as a subprocess, reading the state file, against
// a real exit node (an in-process TunnelServer on 127.0.0.1 with a pinned TLS key).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateStore, type TunnelRecord } from '../../src/core/state-store.js';
import { TunnelServer } from '../../src/engine/server/tunnel-server.js';
import { generateSelfSigned } from '../../src/engine/tls/self-signed.js';
import { cleanEnv, runCli } from '../download/stage-package.js';

const token = randomBytes(32).toString('hex');
const tls = generateSelfSigned({ ips: ['127.0.0.1'] });
let server: TunnelServer;
let dir: string;
let controlPort: number;

function record(name: string, createdAt: string, extra: Partial<TunnelRecord> = {}): TunnelRecord {
  return { name, provider: 'local', region: 'here', status: 'ready', ip: '127.0.0.1', token, pin: tls.pin, controlPort, ports: [], createdAt, updatedAt: createdAt, ...extra };
}

/** A config dir with these records, and the CLI's environment pointing at it. */
async function stateWith(records: TunnelRecord[]): Promise<NodeJS.ProcessEnv> {
  const config = await mkdtemp(join(dir, 'config-'));
  const store = new StateStore(join(config, 'inletsctl'));
  for (const r of records) await store.insert(r);
  return cleanEnv({ XDG_CONFIG_HOME: config, HOME: dir });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inletsctl-test-cli-'));
  server = new TunnelServer({ token, controlAddr: '127.0.0.1', controlPort: 0, dataAddr: '127.0.0.1', tls: { certPem: tls.certPem, keyPem: tls.keyPem } });
  controlPort = (await server.start()).port;
});
afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('inletsctl test (built CLI)', () => {
  it('tests the most recent tunnel and prints one JSON report', async () => {
    const env = await stateWith([record('older', '2025-01-01T00:00:00Z', { controlPort: 1 }), record('newest', '2025-06-01T00:00:00Z')]);
    const r = await runCli(['test', '--json', '--pings', '5', '--transfer-mb', '2'], { env, cwd: dir });
    expect(r.stderr).not.toMatch(/^inletsctl: /m);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ name: 'newest', checksumOk: true, roundTrip: { samples: 5 }, throughput: { bytes: 2 * 1024 * 1024 } });
    expect(report.roundTrip.p50Ms).toBeGreaterThan(0);
    expect(report.throughput.mbPerSec).toBeGreaterThan(0);
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(server.status().clients).toEqual([]);
  });

  it('tests a tunnel by name and prints a readable summary', async () => {
    const env = await stateWith([record('by-name', '2025-01-01T00:00:00Z'), record('broken', '2025-06-01T00:00:00Z', { controlPort: 1 })]);
    const r = await runCli(['test', 'by-name', '--pings', '3', '--transfer-mb', '1'], { env, cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Tunnel by-name works: traffic went through 127\.0\.0\.1:\d+ and back\./);
    expect(r.stdout).toMatch(/round trip +p50 [\d.]+ ms over 3 pings/);
    expect(r.stdout).toMatch(/throughput +[\d.]+ MB\/s echoed \(1\.0 MiB in [\d.]+ s, SHA-256 matched\)/);
  });

  it('exits 1 with a clear message on a wrong token, never printing a token', async () => {
    const wrong = randomBytes(32).toString('hex');
    const env = await stateWith([record('wrong', '2025-01-01T00:00:00Z', { token: wrong })]);
    const r = await runCli(['test', 'wrong'], { env, cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^inletsctl: cannot connect a tunnel client to wss:\/\/127\.0\.0\.1:\d+: .*token/m);
    expect(r.stdout + r.stderr).not.toContain(wrong);
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(server.status().clients).toEqual([]);
  });

  it('exits 1 when there is no tunnel to test', async () => {
    const env = await stateWith([]);
    const none = await runCli(['test'], { env, cwd: dir });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/inletsctl: no tunnels in .*tunnels\.json; create one first: inletsctl create --provider local --tcp/);
    const missing = await runCli(['test', 'nope'], { env, cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no tunnel named "nope"');
  });
});
