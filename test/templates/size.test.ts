/**
 * The TCP-mode user-data with the real engine bundle (dist/inlets.mjs, from `npm run build`), a
 * real TLS pair and a 256-bit token fits EC2's 16 KiB limit when gzip'd (the raw bytes count).
 */
import { describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../src/engine/tls/self-signed.js';
import { readEngineBundle } from '../../src/core/engine-bundle.js';
import { checkUserDataSize, parseUserData, renderUserData } from '../../src/core/user-data/render.js';
import { localProvider } from '../../providers/local/index.js';
import { providers } from '../../providers/index.js';

const EC2_LIMIT = 16 * 1024;

describe('user-data size', () => {
  it('TCP mode with the real engine fits 16 KiB when binary (gzip), in both formats', () => {
    const tls = generateSelfSigned({ commonName: 'inlets-size-check', ips: ['203.0.113.10'] });
    const token = 'ab'.repeat(32);
    const bundle = readEngineBundle();
    const sizes: Record<string, number> = {};
    for (const format of ['cloud-config', 'script'] as const) {
      for (const binary of [true, false]) {
        const ud = renderUserData({ mode: 'tcp', token, tls, controlPort: 8123, format, binary, engineBundle: bundle });
        sizes[`${format}${binary ? ' gzip' : ''}`] = ud.length;
      }
    }
    console.log(`user-data sizes in bytes (engine ${bundle.length} bytes; EC2 limit ${EC2_LIMIT}):`, JSON.stringify(sizes));
    expect(sizes['cloud-config gzip']).toBeLessThanOrEqual(EC2_LIMIT);
    expect(sizes['script gzip']).toBeLessThanOrEqual(EC2_LIMIT);
  });

  it('the --ttl safety net (one systemd-run command) still fits, and reads back in both formats', () => {
    const tls = generateSelfSigned({ commonName: 'inlets-size-check', ips: ['203.0.113.10'] });
    const bundle = readEngineBundle();
    const expiresAt = '2026-12-06T14:00:00.000Z';
    const added: Record<string, number> = {};
    for (const format of ['cloud-config', 'script'] as const) {
      const render = (e?: string) => renderUserData({ mode: 'tcp', token: 'ab'.repeat(32), tls, controlPort: 8123, format, binary: true, engineBundle: bundle, expiresAt: e });
      const withTtl = render(expiresAt);
      added[format] = withTtl.length - render().length;
      expect(withTtl.length, format).toBeLessThanOrEqual(EC2_LIMIT);
      expect(parseUserData(withTtl).plan.commands.at(-1), format).toEqual(['systemd-run', '--on-calendar=2026-12-06 14:00:00 UTC', 'systemctl', 'poweroff']);
    }
    console.log('gzip bytes added by --ttl:', JSON.stringify(added));
  });

  it('the local provider holds itself to the same limit and format', () => {
    const { userData } = localProvider.description;
    expect(userData).toEqual({ limitBytes: EC2_LIMIT, format: 'cloud-config', binary: true });
    const tls = generateSelfSigned();
    const ud = renderUserData({ mode: 'tcp', token: 'cd'.repeat(32), tls, controlPort: 8123, format: userData.format, binary: userData.binary });
    expect(() => checkUserDataSize(ud, userData.limitBytes, 'local')).not.toThrow();
  });

  it.each(providers.map((p) => p.description))('$name: TCP user-data with the real engine fits its own limit in its own format', (d) => {
    const ud = renderUserData({ mode: 'tcp', token: 'ef'.repeat(32), tls: generateSelfSigned({ commonName: 'size', ips: ['203.0.113.10'] }), controlPort: 8123, format: d.userData.format, binary: d.userData.binary, engineBundle: readEngineBundle() });
    expect(ud.length).toBeLessThanOrEqual(d.userData.limitBytes);
    expect(() => checkUserDataSize(ud, d.userData.limitBytes, d.name)).not.toThrow();
  });
});
