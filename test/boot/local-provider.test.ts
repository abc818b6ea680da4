/**
 * The local provider across processes: each call runs in a Node process of its own, as separate
 * `inletsctl create` / `list` / `delete` invocations do, while the exit node runs on between them.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Host } from '../../src/core/provider.js';
import { readBootRecord, stopBootedNodeAndWait } from '../../src/boot/booted-process.js';
import { renderUserData } from '../../src/core/user-data/render.js';
import { generateSelfSigned } from '../../src/engine/tls/self-signed.js';
import { requestControl } from '../../src/engine/transport/control-request.js';
import { echoServer, eventually, freePortOn, roundTrip, sleep, startClient, stopChild } from './boot-helpers.js';

const DRIVER = new URL('./local-provider-driver.ts', import.meta.url).pathname;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/**
 * True when `pid` no longer runs. An orphan that exited may stay a zombie until init reaps it
 * (some sandboxes' init never does), so a zombie counts as gone.
 */
function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** One provider call in a fresh Node process. */
function call(stateDir: string, ...args: string[]): { result?: unknown; error?: { code: string; message: string } } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', DRIVER, stateDir, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`driver ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function setup() {
  const stateDir = mkdtempSync(join(tmpdir(), 'inlets-local-'));
  cleanups.push(async () => {
    // Whatever a failed test left running is stopped before its directory goes.
    const base = join(stateDir, 'local');
    if (existsSync(base)) for (const name of readdirSync(base)) await stopBootedNodeAndWait(join(base, name, 'root')).catch(() => {});
    rmSync(stateDir, { recursive: true, force: true });
  });
  const tls = generateSelfSigned({ commonName: 'local-test' });
  const token = randomBytes(32).toString('hex');
  return { stateDir, tls, token };
}

/** Renders user-data for a control port free on 127.0.0.2..5 (where the provider will look first). */
async function userDataFile(stateDir: string, tls: { certPem: string; keyPem: string }, token: string) {
  const controlPort = await freePortOn('127.0.0.2');
  const file = join(stateDir, `user-data-${controlPort}`);
  writeFileSync(file, renderUserData({ mode: 'tcp', token, tls, controlPort, format: 'cloud-config', binary: true }));
  return { controlPort, file };
}

describe('local provider', () => {
  it('create, status, list and delete work from separate processes, and the node carries traffic', async () => {
    const { stateDir, tls, token } = setup();
    const { controlPort, file } = await userDataFile(stateDir, tls, token);

    const created = call(stateDir, 'create', 'tunnel-a', String(controlPort), file);
    expect(created.error).toBeUndefined();
    const host = created.result as Host;
    expect(host).toMatchObject({ id: 'tunnel-a', name: 'tunnel-a', status: 'provisioning' });
    expect(host.ip).toMatch(/^127\.0\.0\.([2-9]|\d{2,3})$/);

    // The create process has exited; the node runs on and another process sees it active.
    const status = call(stateDir, 'status', 'tunnel-a').result as Host;
    expect(status.status).toBe('active');
    const url = `wss://${host.ip}:${controlPort}`;
    const answer = await eventually(() => requestControl({ url, path: '/status', token, trust: { pin: tls.pin }, timeoutMs: 3000 }));
    expect(answer.status).toBe(200);

    const echo = await echoServer();
    cleanups.push(echo.close);
    const dataPort = await freePortOn(host.ip!);
    const client = startClient({ url, token, pin: tls.pin, dataPort, upstreamPort: echo.port });
    cleanups.push(() => stopChild(client));
    const payload = randomBytes(32 * 1024);
    expect((await eventually(() => roundTrip(host.ip!, dataPort, payload), 30_000, 250)).equals(payload)).toBe(true);

    const listed = call(stateDir, 'list').result as Host[];
    expect(listed.map((h) => [h.name, h.ip, h.status])).toEqual([['tunnel-a', host.ip, 'active']]);

    const pid = readBootRecord(join(stateDir, 'local', 'tunnel-a', 'root'))!.pid;
    let outcome = '';
    for (let i = 0; i < 40 && outcome !== 'done'; i++) {
      outcome = call(stateDir, 'delete', 'tunnel-a').result as string;
      if (outcome !== 'done') await sleep(250);
    }
    expect(outcome).toBe('done');
    expect(processGone(pid)).toBe(true);
    expect(existsSync(join(stateDir, 'local', 'tunnel-a'))).toBe(false);
    expect(call(stateDir, 'status', 'tunnel-a').error?.code).toBe('NOT_FOUND');
    expect(call(stateDir, 'delete', 'tunnel-a').result).toBe('done');
    expect(call(stateDir, 'list').result).toEqual([]);
  });

  it('gives each node its own address, refuses a taken name, and reports a dead node as error with its log', async () => {
    const { stateDir, tls, token } = setup();
    const { controlPort, file } = await userDataFile(stateDir, tls, token);
    const a = call(stateDir, 'create', 'node-a', String(controlPort), file).result as Host;
    const b = call(stateDir, 'create', 'node-b', String(controlPort), file).result as Host;
    expect(a.ip).not.toBe(b.ip);
    expect(call(stateDir, 'create', 'node-a', String(controlPort), file).error?.code).toBe('INVALID');

    // Wait until b is up (it logged its pin), then kill it behind the provider's back.
    const record = readBootRecord(join(stateDir, 'local', 'node-b', 'root'))!;
    await eventually(async () => {
      await requestControl({ url: `wss://${b.ip}:${controlPort}`, path: '/healthz', trust: { pin: tls.pin }, timeoutMs: 3000 });
    });
    process.kill(record.pid, 'SIGKILL');
    const dead = await eventually(async () => {
      const h = call(stateDir, 'status', 'node-b').result as Host;
      if (h.status !== 'error') throw new Error(`still ${h.status}`);
      return h;
    }, 10_000);
    expect(dead.providerStatus).toContain('TLS public key pin');

    for (const name of ['node-a', 'node-b']) {
      let outcome = '';
      for (let i = 0; i < 40 && outcome !== 'done'; i++) {
        outcome = call(stateDir, 'delete', name).result as string;
        if (outcome !== 'done') await sleep(250);
      }
      expect(outcome).toBe('done');
    }
    expect(readdirSync(join(stateDir, 'local', '.addresses'))).toEqual([]);
  });

  it('fails create cleanly when the user-data does not boot, leaving nothing behind', async () => {
    const { stateDir } = setup();
    const file = join(stateDir, 'bad-user-data');
    writeFileSync(file, '#cloud-config\nbootcmd: ["true"]\n');
    const created = call(stateDir, 'create', 'bad', '8123', file);
    expect(created.error?.code).toBe('CREATE_FAILED');
    expect(created.error?.message).toMatch(/bootcmd/);
    expect(readdirSync(join(stateDir, 'local')).filter((n) => n !== '.addresses')).toEqual([]);
    expect(readdirSync(join(stateDir, 'local', '.addresses'))).toEqual([]);
  });
});
