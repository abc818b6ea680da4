/**
 * Wrong-token throttling per source (PROTOCOL.md §13): a source that keeps sending wrong tokens
 * waits longer and longer, on plain requests and websocket upgrades alike, while other sources are
 * answered at once; inlets_auth_failures_total counts every failure; the table stays bounded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AuthThrottle } from '../../src/engine/server/auth-throttle.js';
import { sourceKey } from '../../src/engine/server/preauth-guard.js';
import { cleanupAll, controlGet, startServer } from '../helpers/engine-harness.js';
import { getFrom } from '../helpers/hostile-peers.js';

afterEach(cleanupAll);

describe('wrong-token throttling', () => {
  it('slows the failing source with a growing delay; other sources are answered first', async () => {
    const srv = await startServer({ authDelayMaxMs: 4000 });
    const bad = { token: 'wrong', localAddress: '127.0.0.2' };
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await getFrom(srv.port, '/status', bad);
      expect(r.status).toBe(401);
      times.push(r.ms);
    }
    console.log(`wrong-token answers from one source, ms: ${times.map((t) => t.toFixed(0)).join(', ')}`);
    // three free failures, then 250, 500, 1000 ms (lower bounds only: timers never fire early)
    expect(times[3]).toBeGreaterThanOrEqual(240);
    expect(times[4]).toBeGreaterThanOrEqual(490);
    expect(times[5]).toBeGreaterThanOrEqual(990);

    // the next waits 2 s, on an upgrade too; meanwhile other sources are answered
    const order: string[] = [];
    const slowed = getFrom(srv.port, '/connect', { ...bad, upgrade: true }).then((r) => (order.push('throttled'), r));
    const right = getFrom(srv.port, '/status', { token: srv.token, localAddress: '127.0.0.3' }).then((r) => (order.push('right'), r));
    const otherWrong = getFrom(srv.port, '/status', { token: 'wrong', localAddress: '127.0.0.4' }).then((r) => (order.push('other-wrong'), r));
    const [s, r, o] = await Promise.all([slowed, right, otherWrong]);
    expect(s.status).toBe(401);
    expect(s.ms).toBeGreaterThanOrEqual(1990);
    expect(r.status).toBe(200);
    expect(o.status).toBe(401);
    expect(order[2]).toBe('throttled');
    console.log(`meanwhile: right token from another source ${r.ms.toFixed(0)} ms, wrong token from a third ${o.ms.toFixed(0)} ms; throttled upgrade ${s.ms.toFixed(0)} ms`);

    const metrics = await controlGet(srv.port, '/metrics', srv.token);
    expect(metrics.body).toMatch(/^inlets_auth_failures_total 8$/m);
  });

  it('the right token clears a source; the delay stops at its maximum; the table is bounded', () => {
    const t = new AuthThrottle(1000, 100);
    for (let i = 0; i < 20; i++) t.failed('a');
    expect(t.delay('a')).toBe(1000);
    expect(t.delay('b')).toBe(0);
    t.succeeded('a');
    expect(t.delay('a')).toBe(0);
    for (let i = 0; i < 10; i++) t.failed('persistent');
    for (let i = 0; i < 10_000; i++) t.failed(`10.0.${i >> 8}.${i & 255}`);
    expect(t.size).toBe(100);
    // the least recently failed are forgotten first
    expect(t.delay('persistent')).toBe(0);
  });

  it('counts IPv4 by address and IPv6 by /64', () => {
    expect(sourceKey('203.0.113.5')).toBe('203.0.113.5');
    expect(sourceKey('::ffff:203.0.113.5')).toBe('203.0.113.5');
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
  });
});
