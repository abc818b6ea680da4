/** Failures with real processes (the built bundle): server restart, client killed. */
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, connectTo, freePort, namedUpstream, randomToken, readLine, spawnInlets, tempDir, waitFor } from '../helpers/engine-harness.js';

afterEach(cleanupAll);

const token = randomToken();

function serverArgs(controlPort: number, stateDir: string) {
  return ['tcp', 'server', '--control-addr', '127.0.0.1', '--control-port', String(controlPort), '--data-addr', '127.0.0.1', '--state-dir', stateDir, '--token-env', 'T'];
}

async function startCliServer(controlPort: number, stateDir: string) {
  const p = spawnInlets(serverArgs(controlPort, stateDir), { T: token });
  await p.waitOutput(/TLS public key pin: sha256:[0-9a-f]{64}/);
  return { p, pin: /TLS public key pin: (sha256:[0-9a-f]{64})/.exec(p.stdout())![1] };
}

function startCliClient(controlPort: number, pin: string, id: string, publicPort: number, upstreamPort: number) {
  return spawnInlets(['tcp', 'client', '--url', `wss://127.0.0.1:${controlPort}`, '--tls-pin', pin, '--token-env', 'T', '--client-id', id, '--upstream', `${publicPort}=127.0.0.1:${upstreamPort}`], { T: token });
}

/** Resolves with the upstream's name line, or null when the connection failed or closed first. */
async function nameVia(port: number): Promise<string | null> {
  let s: Socket | undefined;
  try {
    s = await connectTo(port);
    s.on('error', () => {});
    return await readLine(s, 5000);
  } catch {
    return null;
  } finally {
    s?.destroy();
  }
}

describe('processes failing', () => {
  it('a client comes back after the server restarts on the same ports and state dir', async () => {
    const controlPort = await freePort();
    const stateDir = await tempDir();
    const publicPort = await freePort();
    const up = await namedUpstream('up');
    const first = await startCliServer(controlPort, stateDir);
    const client = startCliClient(controlPort, first.pin, 'c1', publicPort, up.port);
    await client.waitOutput(/serving public ports/);
    expect(await nameVia(publicPort)).toBe('up');

    await first.p.kill('SIGKILL');
    await waitFor(async () => (await nameVia(publicPort)) === null, 'the public port to close with the server');
    const second = await startCliServer(controlPort, stateDir);
    expect(second.pin).toBe(first.pin); // same state dir, same key: the pinned client trusts it
    await waitFor(async () => (await nameVia(publicPort)) === 'up', 'the client to reconnect and the port to work again', 60_000, 250);
    expect(client.stderr()).toMatch(/reconnecting in/);
    expect(await client.kill('SIGTERM')).toBe(0);
  }, 120_000);

  it('a killed client: its public connections close and its port is freed', async () => {
    const controlPort = await freePort();
    const publicPort = await freePort();
    const up = await namedUpstream('up');
    const srv = await startCliServer(controlPort, await tempDir());
    const client = startCliClient(controlPort, srv.pin, 'victim', publicPort, up.port);
    await client.waitOutput(/serving public ports/);
    const open = await connectTo(publicPort);
    expect(await readLine(open)).toBe('up');
    const closed = new Promise((r) => open.once('close', r));
    open.on('error', () => {});
    await client.kill('SIGKILL');
    await closed;
    await waitFor(async () => (await nameVia(publicPort)) === null, 'the public port to be freed');
    await expect(connectTo(publicPort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  }, 60_000);

  it('a killed client: its port moves to the other client offering it', async () => {
    const controlPort = await freePort();
    const publicPort = await freePort();
    const [a, b] = [await namedUpstream('a'), await namedUpstream('b')];
    const srv = await startCliServer(controlPort, await tempDir());
    const ca = startCliClient(controlPort, srv.pin, 'a', publicPort, a.port);
    await ca.waitOutput(/serving public ports/);
    const cb = startCliClient(controlPort, srv.pin, 'b', publicPort, b.port);
    await cb.waitOutput(/serving public ports/);
    const seen = new Set<string | null>();
    for (let i = 0; i < 4; i++) seen.add(await nameVia(publicPort));
    expect([...seen].sort()).toEqual(['a', 'b']);
    await ca.kill('SIGKILL');
    await srv.p.waitOutput(/client a disconnected/);
    for (let i = 0; i < 4; i++) expect(await nameVia(publicPort)).toBe('b');
  }, 60_000);
});
