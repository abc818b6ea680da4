/** The HTTP endpoints on the control port: /healthz open, /status and /metrics behind the token. */
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerStatus } from '../../src/engine/server/status-info.js';
import { cleanupAll, controlGet, connectTo, echoUpstream, freePort, readAll, startClient, startServer } from '../helpers/engine-harness.js';

afterEach(cleanupAll);

const get = controlGet;

describe('control port endpoints', () => {
  it('answers /healthz without a token', async () => {
    const srv = await startServer();
    const res = await get(srv.port, '/healthz');
    expect(res.status).toBe(200);
    expect(res.body.trim()).toBe('ok');
  });

  it.each(['/status', '/metrics'])('refuses %s without the right token, with a JSON 401, and counts each failure', async (path) => {
    const srv = await startServer();
    for (const token of [undefined, '', 'wrong', srv.token + 'x']) {
      const res = await get(srv.port, path, token);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toEqual({ code: 'AUTH_FAILED', message: expect.any(String) });
      expect(res.body).not.toContain(srv.token);
    }
    const metrics = await get(srv.port, '/metrics', srv.token);
    expect(metrics.body).toMatch(/^inlets_auth_failures_total 4$/m);
  });

  it('reports clients and ports in /status and traffic in /metrics', async () => {
    const upstream = await echoUpstream();
    const srv = await startServer();
    const publicPort = await freePort();
    await startClient({ url: srv.url, token: srv.token, clientId: 'laptop-1', trust: { pin: srv.pin }, upstreams: new Map([[publicPort, { host: '127.0.0.1', port: upstream.port }]]) });
    const s = await connectTo(publicPort);
    const echoed = readAll(s);
    s.end('x'.repeat(1234));
    expect((await echoed).length).toBe(1234);

    const res = await get(srv.port, '/status', srv.token);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/application\/json/);
    const st = JSON.parse(res.body) as ServerStatus;
    expect(st).toMatchObject({ version: expect.any(String), mode: 'tcp', hostname: expect.any(String), ports: [{ port: publicPort, clients: ['laptop-1'] }] });
    expect(Date.parse(st.startedAt)).toBeGreaterThan(0);
    expect(st.clients).toEqual([{ id: 'laptop-1', remoteAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/), connectedAt: expect.any(String), ports: [publicPort] }]);

    const m = await get(srv.port, '/metrics', srv.token);
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(m.body).toMatch(/^inlets_connected_clients 1$/m);
    expect(m.body).toMatch(new RegExp(`^inlets_bytes_total\\{port="${publicPort}",direction="in"\\} 1234$`, 'm'));
    expect(m.body).toMatch(new RegExp(`^inlets_bytes_total\\{port="${publicPort}",direction="out"\\} 1234$`, 'm'));
    expect(m.body).toMatch(new RegExp(`^inlets_open_connections\\{port="${publicPort}"\\} 0$`, 'm'));
  });

  it('answers 404 for unknown paths and 400 for a plain GET /connect', async () => {
    const srv = await startServer();
    expect((await get(srv.port, '/nope', srv.token)).status).toBe(404);
    expect((await get(srv.port, '/connect', srv.token)).status).toBe(400);
  });
});
