import { describe, expect, it } from 'vitest';
import { describeUpstreams, parseUpstreams } from '../../src/engine/client/upstream-map.js';

describe('client upstream flags', () => {
  it('maps --upstream HOST with --ports and repeated --port to the same port numbers', () => {
    const m = parseUpstreams(['127.0.0.1'], ['80,443', '22']);
    expect([...m]).toEqual([
      [80, { host: '127.0.0.1', port: 80 }],
      [443, { host: '127.0.0.1', port: 443 }],
      [22, { host: '127.0.0.1', port: 22 }],
    ]);
  });

  it('remaps PUBLIC=HOST:PORT, keeps the port for PUBLIC=HOST, and reads bracketed IPv6', () => {
    const m = parseUpstreams(['2222=192.168.1.10:22', '8080=localhost:3000', '9000=db.local', '2223=[::1]:22'], []);
    expect(m.get(2222)).toEqual({ host: '192.168.1.10', port: 22 });
    expect(m.get(8080)).toEqual({ host: 'localhost', port: 3000 });
    expect(m.get(9000)).toEqual({ host: 'db.local', port: 9000 });
    expect(m.get(2223)).toEqual({ host: '::1', port: 22 });
    expect(describeUpstreams(m)).toContain('2223 → [::1]:22');
  });

  it('combines a plain upstream with remaps', () => {
    const m = parseUpstreams(['localhost', '2222=10.0.0.2:22'], ['80']);
    expect(m.size).toBe(2);
    expect(m.get(80)).toEqual({ host: 'localhost', port: 80 });
  });

  it.each([
    [[], [], /no upstream/],
    [['localhost'], [], /give the ports/],
    [[], ['80'], /need --upstream HOST/],
    [['a', 'b'], ['80'], /only one plain HOST/],
    [['localhost:3000'], ['80'], /remap with PUBLIC=localhost:3000/],
    [['2222=host:99999'], [], /not a port/],
    [['0=host:22'], [], /not a port/],
    [['localhost', '80=other:8080'], ['80'], /port 80 is given twice/],
    [['localhost'], ['80,,443'], /not a port/],
    [['2222='], [], /not HOST or HOST:PORT/],
  ])('refuses %j %j with a clear UsageError', (ups, ports, msg) => {
    expect(() => parseUpstreams(ups, ports)).toThrowError(expect.objectContaining({ code: 'USAGE', message: expect.stringMatching(msg) }));
  });
});
