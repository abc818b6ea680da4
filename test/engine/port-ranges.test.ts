import { describe, expect, it } from 'vitest';
import { formatPortRanges, parsePort, parsePortRanges, portAllowed } from '../../src/engine/port-ranges.js';

describe('--allow-ports ranges', () => {
  it('parses single ports and inclusive ranges', () => {
    const r = parsePortRanges('1024-65535,80, 443');
    expect(r).toEqual([{ from: 1024, to: 65535 }, { from: 80, to: 80 }, { from: 443, to: 443 }]);
    expect(formatPortRanges(r)).toBe('1024-65535,80,443');
  });

  it('answers membership at the edges', () => {
    const r = parsePortRanges('1024-2048,80');
    for (const [p, ok] of [[80, true], [81, false], [1023, false], [1024, true], [2048, true], [2049, false]] as const) {
      expect(portAllowed(p, r)).toBe(ok);
    }
    expect(portAllowed(22)).toBe(true);
  });

  it.each(['', '80,', '0', '65536', 'abc', '10-5', '1-2-3', '-5', '80 443', '1e3'])('refuses %j with a UsageError', (text) => {
    expect(() => parsePortRanges(text)).toThrowError(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('--allow-ports') }));
  });

  it('parses one port', () => {
    expect(parsePort(' 22 ')).toBe(22);
    expect(() => parsePort('22x', '--port')).toThrow(/--port: "22x" is not a port/);
  });
});
