import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PortRegistry } from '../../src/engine/server/port-registry.js';

/** A free port on 127.0.0.1 (bound then released). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** Connects and resolves with whether the connection was accepted (true) or refused (false). */
function tryConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

describe('public port registry', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0)) await f();
  });

  function registry(allow?: { from: number; to: number }[]) {
    const got: { port: number; session: string }[] = [];
    const reg = new PortRegistry<string>({
      dataAddr: '127.0.0.1',
      allowPorts: allow,
      onConnection: (port, socket: Socket, session) => {
        got.push({ port, session });
        socket.destroy();
      },
    });
    cleanup.push(() => reg.closeAll());
    return { reg, got };
  }

  async function waitFor(cond: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(cond()).toBe(true);
  }

  it('opens a port on first offer, shares it round robin, and closes it when the last session leaves', async () => {
    const port = await freePort();
    const { reg, got } = registry();
    expect(await reg.offer('a', [port])).toEqual({ accepted: [port], refused: [] });
    expect(await reg.offer('b', [port])).toEqual({ accepted: [port], refused: [] });
    expect(reg.list()).toEqual([{ port, sessions: ['a', 'b'] }]);
    for (let i = 0; i < 4; i++) {
      expect(await tryConnect(port)).toBe(true);
      await waitFor(() => got.length === i + 1);
    }
    expect(got.map((g) => g.session)).toEqual(['a', 'b', 'a', 'b']);
    reg.withdraw('a');
    for (let i = 0; i < 2; i++) expect(await tryConnect(port)).toBe(true);
    await waitFor(() => got.length === 6);
    expect(got.slice(4).map((g) => g.session)).toEqual(['b', 'b']);
    reg.withdraw('b');
    expect(reg.list()).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(await tryConnect(port)).toBe(false);
    // the freed port can be bound again at once
    expect(await reg.offer('c', [port])).toEqual({ accepted: [port], refused: [] });
    expect(await tryConnect(port)).toBe(true);
  });

  it('refuses ports outside --allow-ports, invalid and duplicate ports, and ports in use', async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => busy.close(r)));
    const busyPort = (busy.address() as { port: number }).port;
    const ok = await freePort();
    const { reg } = registry([{ from: 1024, to: 65535 }]);
    const res = await reg.offer('a', [ok, 80, busyPort, 0, 'x', ok]);
    expect(res.accepted).toEqual([ok]);
    const byCode = Object.fromEntries(res.refused.map((r) => [String(r.port), r.code]));
    expect(byCode).toEqual({ '80': 'PORT_NOT_ALLOWED', [busyPort]: 'PORT_IN_USE', '0': 'PORT_INVALID', x: 'PORT_INVALID', [ok]: 'PORT_INVALID' });
    expect(res.refused.find((r) => r.port === 80)?.message).toMatch(/--allow-ports/);
    expect(reg.list()).toEqual([{ port: ok, sessions: ['a'] }]);
  });

  it('keeps a session that is still binding out of the rotation, and frees ports of one withdrawn mid-offer', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const { reg } = registry();
    const offering = reg.offer('a', [p1, p2]);
    expect(reg.list().every((e) => e.sessions.length === 0)).toBe(true);
    reg.withdraw('a');
    await offering;
    expect(reg.list()).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(await tryConnect(p1)).toBe(false);
  });
});
