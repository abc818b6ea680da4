import { describe, expect, it } from 'vitest';
import { flagWords, systemdUnit } from '../../src/engine/cli/systemd-unit.js';

const TOKEN = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

describe('--generate systemd', () => {
  it('writes a server unit with the token in an EnvironmentFile and --token-env on ExecStart', () => {
    const unit = systemdUnit('systemd', {
      role: 'server',
      node: '/usr/bin/node',
      script: '/usr/local/bin/inlets.mjs',
      values: { token: TOKEN, 'control-port': '8123', 'allow-ports': '1024-65535,80', generate: 'systemd', 'disable-tls': false },
    });
    expect(unit).not.toContain(TOKEN);
    expect(unit).toContain('EnvironmentFile=/etc/default/inlets-tcp-server\n');
    expect(unit).toMatch(/^# +INLETS_TOKEN=<token>$/m);
    expect(unit).toContain('ExecStart=/usr/bin/node /usr/local/bin/inlets.mjs tcp server --control-port 8123 --allow-ports 1024-65535,80 --token-env INLETS_TOKEN\n');
    expect(unit).toContain('Restart=always\n');
    expect(unit).toContain('mode 0600');
    expect(unit).toContain('WantedBy=multi-user.target');
  });

  it('writes a client unit that drops --token-file too and quotes what systemd would expand', () => {
    const unit = systemdUnit('systemd', {
      role: 'client',
      node: '/usr/bin/node',
      script: '/opt/in lets/inlets.mjs',
      values: { 'token-file': '/root/token', url: 'wss://203.0.113.10:8123', upstream: ['127.0.0.1', '2222=10.0.0.2:22'], ports: ['80,443'], 'tls-insecure': true, 'client-id': 'a%b$c' },
    });
    expect(unit).not.toContain('/root/token');
    expect(unit).toContain('EnvironmentFile=/etc/default/inlets-tcp-client\n');
    const exec = unit.split('\n').find((l) => l.startsWith('ExecStart='));
    expect(exec).toBe(
      'ExecStart=/usr/bin/node "/opt/in lets/inlets.mjs" tcp client --url wss://203.0.113.10:8123 --upstream 127.0.0.1 --upstream 2222=10.0.0.2:22 --ports 80,443 --tls-insecure --client-id "a%%b$$c" --token-env INLETS_TOKEN',
    );
  });

  it('refuses other formats', () => {
    expect(() => systemdUnit('upstart', { role: 'server', values: {} })).toThrow(/only "systemd"/);
  });

  it('turns parsed flags back into words', () => {
    expect(flagWords({ a: 'x', b: true, c: false, d: ['1', '2'], token: 's', e: undefined })).toEqual(['--a', 'x', '--b', '--d', '1', '--d', '2']);
  });
});
