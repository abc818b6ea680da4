/** Session rules with in-process server and clients: auth, pins, port refusals, load balancing, ids. */
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { TunnelClient } from '../../src/engine/client/tunnel-client.js';
import { TunnelServer } from '../../src/engine/server/tunnel-server.js';
import { cleanupAll, connectTo, controlGet, freePort, namedUpstream, readLine, startClient, startServer, testIdentity, track, waitFor } from '../helpers/engine-harness.js';

afterEach(cleanupAll);

describe('sessions', () => {
  it('a wrong token is fatal at once: no reconnect loop', async () => {
    const srv = await startServer();
    const { welcomed, client } = await startClient({ url: srv.url, token: 'not-the-token', trust: { pin: srv.pin }, upstreams: new Map([[await freePort(), { host: '127.0.0.1', port: 1 }]]) }, false);
    let disconnects = 0;
    client.on('disconnected', () => disconnects++);
    await expect(welcomed).rejects.toMatchObject({ code: 'AUTH_FAILED', message: expect.stringMatching(/refused the token/) });
    await new Promise((r) => setTimeout(r, 1500));
    expect(disconnects).toBe(0);
    expect(srv.server.status().clients).toEqual([]);
  });

  it('an empty token is refused by server and client alike', () => {
    const id = testIdentity();
    expect(() => new TunnelServer({ token: '', tls: id })).toThrowError(expect.objectContaining({ code: 'TOKEN_EMPTY' }));
    expect(() => new TunnelClient({ url: 'wss://127.0.0.1:1', token: '', trust: {}, upstreams: new Map() })).toThrowError(expect.objectContaining({ code: 'TOKEN_EMPTY' }));
  });

  it('a pin mismatch is fatal and the token never reaches the server', async () => {
    const id = testIdentity();
    let received = 0;
    const tls = createTlsServer({ cert: id.certPem, key: id.keyPem }, (s) => {
      s.on('data', (d) => (received += d.length));
      s.on('error', () => {});
    });
    tls.on('tlsClientError', () => {});
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    track(() => new Promise((r) => tls.close(r)));
    const port = (tls.address() as { port: number }).port;
    const wrongPin = `sha256:${'0'.repeat(64)}`;
    const { welcomed } = await startClient({ url: `wss://127.0.0.1:${port}`, token: 'secret-token', trust: { pin: wrongPin }, upstreams: new Map([[2222, { host: '127.0.0.1', port: 22 }]]) }, false);
    const err = await welcomed.then(
      () => undefined,
      (e: Error & { code: string }) => e,
    );
    expect(err).toMatchObject({ code: 'TLS_PIN_MISMATCH' });
    expect(err!.message).toContain(id.pin);
    expect(err!.message).not.toContain('secret-token');
    expect(received).toBe(0);
  });

  it('--allow-ports refusals reach the client with a clear error; all refused is fatal', async () => {
    const srv = await startServer({ allowPorts: [{ from: 20000, to: 20010 }] });
    const { welcomed, fatal } = await startClient({ url: srv.url, token: srv.token, trust: { pin: srv.pin }, upstreams: new Map([[80, { host: '127.0.0.1', port: 1 }]]) }, false);
    expect(await welcomed).toEqual({ accepted: [], refused: [{ port: 80, code: 'PORT_NOT_ALLOWED', message: "port 80 is outside the server's --allow-ports" }] });
    expect(await fatal).toMatchObject({ code: 'PORTS_REFUSED', message: expect.stringMatching(/80: .*--allow-ports/) });
    await waitFor(() => srv.server.status().clients.length === 0, 'the refused client to leave');
  });

  it('a partly refused client keeps the ports it was given', async () => {
    const up = await namedUpstream('a');
    const ok = await freePort();
    const srv = await startServer({ allowPorts: [{ from: ok, to: ok }] });
    const { welcome } = await startClient({
      url: srv.url,
      token: srv.token,
      trust: { pin: srv.pin },
      upstreams: new Map([
        [ok, { host: '127.0.0.1', port: up.port }],
        [ok === 65535 ? 65534 : ok + 1, { host: '127.0.0.1', port: up.port }],
      ]),
    });
    expect(welcome!.accepted).toEqual([ok]);
    expect(welcome!.refused).toEqual([{ port: ok === 65535 ? 65534 : ok + 1, code: 'PORT_NOT_ALLOWED', message: expect.stringContaining('--allow-ports') }]);
    expect(await readLine(await connectTo(ok))).toBe('a');
  });

  it('two clients on one port are served round robin; when one leaves the other takes all', async () => {
    const [a, b] = [await namedUpstream('a'), await namedUpstream('b')];
    const srv = await startServer();
    const port = await freePort();
    const ca = await startClient({ url: srv.url, token: srv.token, clientId: 'a', trust: { pin: srv.pin }, upstreams: new Map([[port, { host: '127.0.0.1', port: a.port }]]) });
    await startClient({ url: srv.url, token: srv.token, clientId: 'b', trust: { pin: srv.pin }, upstreams: new Map([[port, { host: '127.0.0.1', port: b.port }]]) });
    expect(srv.server.status().ports).toEqual([{ port, clients: ['a', 'b'] }]);
    const names: string[] = [];
    for (let i = 0; i < 6; i++) names.push(await readLine(await connectTo(port)));
    expect(names).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    await ca.client.stop();
    await waitFor(() => srv.server.status().ports[0]?.clients.length === 1, 'client a to leave');
    for (let i = 0; i < 3; i++) expect(await readLine(await connectTo(port))).toBe('b');
  });

  it('a new session with the same client id replaces the old one at once', async () => {
    const [a, b] = [await namedUpstream('first'), await namedUpstream('second')];
    const srv = await startServer();
    const port = await freePort();
    const first = await startClient({ url: srv.url, token: srv.token, clientId: 'same', trust: { pin: srv.pin }, upstreams: new Map([[port, { host: '127.0.0.1', port: a.port }]]) });
    const firstFatal = new Promise<Error>((r) => first.client.once('fatal', r));
    expect(await readLine(await connectTo(port))).toBe('first');
    const second = await startClient({ url: srv.url, token: srv.token, clientId: 'same', trust: { pin: srv.pin }, upstreams: new Map([[port, { host: '127.0.0.1', port: b.port }]]) });
    expect(second.welcome!.accepted).toEqual([port]);
    expect(await firstFatal).toMatchObject({ code: 'REPLACED' });
    expect(srv.server.status().clients.map((c) => c.id)).toEqual(['same']);
    expect(await readLine(await connectTo(port))).toBe('second');
    const metrics = await controlGet(srv.port, '/metrics', srv.token);
    expect(metrics.body).toMatch(/^inlets_reconnects_total 1$/m);
    expect(metrics.body).toMatch(/^inlets_connected_clients 1$/m);
  });
});
