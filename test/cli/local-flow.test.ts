/**
 * The newcomer's path, end to end with the real CLI and the `local` provider:
 * `inletsctl create --provider local --tcp` → ready → the printed client command carries traffic
 * from the node's public address to a local upstream → `inletsctl test` → `list` → `delete`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { INLETS, makeSandbox, requireBuild, runCli, stateRecords, type Sandbox } from './cli-harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** An echo server on 127.0.0.1 with an ephemeral port. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { server, port: (server.address() as { port: number }).port };
}

/** Sends `payload` to host:port and resolves with what came back once as many bytes arrived. */
function roundTrip(host: string, port: number, payload: Buffer, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const socket = connect({ host, port }, () => socket.write(payload));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no echo from ${host}:${port} within ${timeoutMs} ms (got ${got} bytes)`));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= payload.length) {
        clearTimeout(timer);
        socket.end();
        resolve(Buffer.concat(chunks));
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Retries `roundTrip` until the client has advertised the port (bounded). */
async function eventuallyEcho(host: string, port: number, payload: Buffer, timeoutMs = 30_000): Promise<Buffer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await roundTrip(host, port, payload);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Runs the client command exactly as printed (`node …/dist/inlets.mjs tcp client …`: not on PATH here). */
function startClient(clientCommand: string, token: string, env: NodeJS.ProcessEnv): ChildProcess & { log: () => string } {
  expect(clientCommand.startsWith(`${INLETS} tcp client `)).toBe(true);
  let log = '';
  const child = spawn('sh', ['-c', `exec ${clientCommand}`], {
    env: { ...env, INLETS_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('close', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  );
  return Object.assign(child, { log: () => log });
}

describe('local provider: the full flow through the CLI', () => {
  it('create → ready → traffic through the printed client command → test → list → delete', async () => {
    requireBuild();
    const sb: Sandbox = await makeSandbox();
    cleanups.push(async () => {
      // If an assertion failed midway, the node must not outlive the test.
      for (const t of await stateRecords(sb.configDir)) await runCli(['delete', t.name, '--yes', '--poll', '200ms'], sb.env);
      await sb.cleanup();
    });
    const upstream = await echoServer();

    const created = await runCli(['create', 'newcomer', '--provider', 'local', '--tcp', '--ports', String(upstream.port), '--poll', '200ms', '--json'], sb.env, 120_000);
    expect(created.code, created.stderr).toBe(0);
    const out = JSON.parse(created.stdout);
    expect(out).toMatchObject({ name: 'newcomer', provider: 'local', ports: [upstream.port] });
    expect(out.ip).toMatch(/^127\.0\.0\.\d+$/);
    expect(out.clientCommand).toContain(`--port ${upstream.port}`);
    expect(out.clientCommand).not.toContain(out.token);

    const client = startClient(out.clientCommand, out.token, sb.env);
    const payload = Buffer.from(`hello through the tunnel ${Date.now()}\n`.repeat(200));
    const echoed = await eventuallyEcho(out.ip, upstream.port, payload).catch((err) => {
      throw new Error(`${(err as Error).message}\nclient log:\n${client.log()}`);
    });
    expect(echoed.equals(payload)).toBe(true);

    const test = await runCli(['test', 'newcomer', '--json', '--transfer-mb', '2', '--pings', '5'], sb.env, 120_000);
    expect(test.code, test.stderr).toBe(0);
    expect(JSON.parse(test.stdout)).toMatchObject({ name: 'newcomer', checksumOk: true });

    const list = JSON.parse((await runCli(['list', '--json'], sb.env)).stdout);
    expect(list.tunnels).toEqual([expect.objectContaining({ name: 'newcomer', provider: 'local', ip: out.ip, state: 'ready', cloud: 'active', drift: 'ok' })]);

    const del = await runCli(['delete', 'newcomer', '--yes', '--json', '--poll', '200ms'], sb.env, 120_000);
    expect(del.code, del.stderr).toBe(0);
    expect(JSON.parse(del.stdout)).toMatchObject({ deleted: true, name: 'newcomer', provider: 'local' });
    expect(await stateRecords(sb.configDir)).toEqual([]);
    const after = JSON.parse((await runCli(['list', '--json', '--provider', 'local'], sb.env)).stdout);
    expect(after.tunnels).toEqual([]);
    // The exit node is gone: its control port refuses connections.
    await expect(roundTrip(out.ip, 8123, Buffer.from('x'), 3000)).rejects.toThrow();
  });
});
