import { readdirSync } from 'node:fs';
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
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) expect(line).toMatch(/^[a-z_]+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? \d+(\.\d+)?(e-\d+)?$/);
  });

  it('adds the standard process metrics with this process\'s values', () => {
    const text = new ServerMetrics().render(0);
    const value = (name: string) => {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} (gauge|counter)$`, 'm'));
      const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
      expect(m, name).not.toBeNull();
      return Number(m![1]);
    };
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(1024 * 1024);
    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
    const start = value('process_start_time_seconds');
    // /proc/stat's btime is whole seconds, so the start time may read up to 1 s late
    expect(start).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(start).toBeGreaterThan(Date.now() / 1000 - process.uptime() - 5);
    // stdin, stdout, stderr at least; and about what /proc shows (other threads may open some meanwhile)
    expect(value('process_open_fds')).toBeGreaterThanOrEqual(3);
    expect(Math.abs(value('process_open_fds') - (readdirSync('/proc/self/fd').length - 1))).toBeLessThan(20);
    expect(value('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('the event-loop lag gauge shows a loop that was blocked', async () => {
    const m = new ServerMetrics();
    await new Promise((r) => setTimeout(r, 600)); // the sampler has ticked at least once
    const until = Date.now() + 800;
    while (Date.now() < until); // block the loop past a 500 ms tick
    await new Promise((r) => setTimeout(r, 50)); // the late tick runs first
    const lag = Number(/^nodejs_eventloop_lag_seconds (\S+)$/m.exec(m.render(0))![1]);
    // The tick due during the block fired at least 300 ms late (at most 500 of the 800 ms were due).
    expect(lag).toBeGreaterThanOrEqual(0.3);
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
