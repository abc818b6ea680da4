import { createConnection, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ServerMetrics } from '../../src/engine/server/metrics.js';

describe('Prometheus metrics text', () => {
  it('writes HELP and TYPE lines for every metric and counters with values', () => {
    const m = new ServerMetrics();
    m.authFailures = 3;
    m.reconnects = 2;
    const text = m.render(5);
    for (const name of ['inlets_connected_clients', 'inlets_auth_failures_total', 'inlets_reconnects_total', 'inlets_open_connections', 'inlets_bytes_total']) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} .+$`, 'm'));
      expect(text).toMatch(new RegExp(`^# TYPE ${name} (gauge|counter)$`, 'm'));
    }
    expect(text).toContain('\ninlets_connected_clients 5\n');
    expect(text).toContain('\ninlets_auth_failures_total 3\n');
    expect(text).toContain('\ninlets_reconnects_total 2\n');
    expect(text.endsWith('\n')).toBe(true);
    // every sample line is `name{labels} value`
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) expect(line).toMatch(/^[a-z_]+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? \d+$/);
  });

  it('counts open connections and bytes per port from live sockets', async () => {
    const m = new ServerMetrics();
    const accepted: Socket[] = [];
    const server = createServer((s) => {
      accepted.push(s);
      m.track(7000, s);
      s.on('data', () => {});
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const peer = createConnection(port, '127.0.0.1');
    await new Promise((r) => peer.once('connect', r));
    peer.write(Buffer.alloc(1000));
    await new Promise<void>((r) => {
      const t = setInterval(() => accepted[0]?.bytesRead === 1000 && (clearInterval(t), r()), 5);
    });
    accepted[0].write(Buffer.alloc(300));
    let text = m.render(0);
    expect(text).toContain('inlets_open_connections{port="7000"} 1');
    expect(text).toContain('inlets_bytes_total{port="7000",direction="in"} 1000');
    expect(text).toContain('inlets_bytes_total{port="7000",direction="out"} 300');
    peer.on('data', () => {});
    peer.end();
    accepted[0].end();
    await new Promise((r) => accepted[0].once('close', r));
    text = m.render(0);
    expect(text).toContain('inlets_open_connections{port="7000"} 0');
    expect(text).toContain('inlets_bytes_total{port="7000",direction="in"} 1000');
    server.close();
  });
});
