import { describe, expect, it } from 'vitest';
import { ago, formatStatus } from '../../src/engine/cli/status-command.js';
import { trustFrom } from '../../src/engine/cli/shared-flags.js';

describe('inlets status output', () => {
  const now = Date.parse('2025-01-02T03:04:05Z');
  it('writes durations as people read them', () => {
    expect(ago(0)).toBe('0s');
    expect(ago(42_000)).toBe('42s');
    expect(ago(7 * 60_000 + 3_000)).toBe('7m 3s');
    expect(ago(5 * 3600_000 + 2 * 60_000 + 9_000)).toBe('5h 2m');
    expect(ago(3 * 86400_000 + 4 * 3600_000)).toBe('3d 4h');
  });

  it('prints a header, the ports and an aligned table of clients', () => {
    const text = formatStatus(
      {
        version: '1.2.3',
        mode: 'tcp',
        hostname: 'exit-1',
        startedAt: '2025-01-01T03:04:05Z',
        clients: [
          { id: 'laptop', remoteAddress: '203.0.113.5:51514', connectedAt: '2025-01-02T03:00:05Z', ports: [2222, 8080] },
          { id: 'a-much-longer-client-id', remoteAddress: '198.51.100.7:40000', connectedAt: '2025-01-02T03:04:00Z', ports: [8080] },
        ],
        ports: [
          { port: 2222, clients: ['laptop'] },
          { port: 8080, clients: ['laptop', 'a-much-longer-client-id'] },
        ],
      },
      now,
    );
    expect(text).toBe(
      [
        'inlets 1.2.3 (tcp) on host exit-1, up 1d (since 2025-01-01T03:04:05Z)',
        'ports: 2222 → laptop; 8080 → laptop, a-much-longer-client-id',
        '',
        'CLIENT                   REMOTE ADDRESS      CONNECTED  PORTS',
        'laptop                   203.0.113.5:51514   4m ago     2222,8080',
        'a-much-longer-client-id  198.51.100.7:40000  5s ago     8080',
        '',
      ].join('\n'),
    );
  });

  it('shows each certificate: issued with expiry and renewal, a failing renewal, an error, waiting', () => {
    const idle = { version: '1', hostname: 'h', startedAt: '2025-01-02T03:04:00Z', clients: [], ports: [] };
    const text = formatStatus(
      {
        ...idle,
        mode: 'http',
        hosts: [],
        certificates: [
          { domain: 'a.example.com', state: 'issued', expiresAt: '2025-04-01T00:00:00.000Z', renewsAt: '2025-03-02T00:00:00.000Z' },
          { domain: 'b.example.com', state: 'issued', expiresAt: '2025-01-20T00:00:00.000Z', renewsAt: '2024-12-21T00:00:00.000Z', lastError: 'ACME order failed: HTTP 500', nextAttemptAt: '2025-01-02T03:05:00.000Z' },
          { domain: 'c.example.com', state: 'error', lastError: 'ACME authorization of c.example.com is invalid', nextAttemptAt: '2025-01-02T03:04:20.000Z' },
          { domain: 'd.example.com', state: 'waiting' },
        ],
      },
      now,
    );
    expect(text).toContain('certificate a.example.com: issued, expires 2025-04-01T00:00:00.000Z, renews from 2025-03-02T00:00:00.000Z\n');
    expect(text).toContain('certificate b.example.com: issued, expires 2025-01-20T00:00:00.000Z, renews from 2024-12-21T00:00:00.000Z; renewal failed: ACME order failed: HTTP 500; next attempt 2025-01-02T03:05:00.000Z\n');
    expect(text).toContain('certificate c.example.com: error, ACME authorization of c.example.com is invalid; next attempt 2025-01-02T03:04:20.000Z\n');
    expect(text).toContain('certificate d.example.com: waiting, waiting for DNS or the CA\n');
  });

  it('says when no client is connected', () => {
    const text = formatStatus({ version: '1', mode: 'tcp', hostname: 'h', startedAt: '2025-01-02T03:04:00Z', clients: [], ports: [] }, now);
    expect(text).toContain('ports: none');
    expect(text).toContain('no clients connected');
  });
});

describe('TLS trust flags', () => {
  it('takes a pin, in canonical form', async () => {
    expect(await trustFrom({ 'tls-pin': `sha256:${'AB'.repeat(32)}` }, 'wss://h:8123')).toMatchObject({ pin: `sha256:${'ab'.repeat(32)}` });
  });
  it('refuses two ways of trusting at once, a bad pin, and TLS flags on ws://', async () => {
    await expect(trustFrom({ 'tls-pin': `sha256:${'a'.repeat(64)}`, 'tls-insecure': true }, 'wss://h:8123')).rejects.toThrow(/--tls-pin and --tls-insecure exclude each other/);
    await expect(trustFrom({ 'tls-pin': 'md5:abc' }, 'wss://h:8123')).rejects.toMatchObject({ code: 'TLS_PIN_INVALID' });
    await expect(trustFrom({ 'tls-insecure': true }, 'ws://h:8123')).rejects.toThrow(/--tls-insecure has no effect/);
    await expect(trustFrom({ 'tls-ca': '/nonexistent/ca.pem' }, 'wss://h:8123')).rejects.toThrow(/--tls-ca \/nonexistent\/ca.pem: ENOENT/);
    await expect(trustFrom({}, 'ftp://h')).rejects.toMatchObject({ code: 'URL_INVALID' });
  });
});
