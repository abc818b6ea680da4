/**
 * README's HTTPS example runs as written: scripts/https-local-demo.sh (pebble, create --provider
 * local --letsencrypt-domain, the DNS record, the certificate, the printed client, curl over
 * verified HTTPS, inletsctl test) in a sandboxed config dir, on free loopback ports.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/engine-harness.js';
import { makeSandbox, requireBuild, root, stateRecords } from './cli-harness.js';

describe('README: HTTPS tunnels on this machine', () => {
  it('the README names the demo, and the demo ends with HTTPS verified through the tunnel and nothing left', async () => {
    requireBuild();
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain('bash scripts/https-local-demo.sh');
    const sb = await makeSandbox();
    const ports: Record<string, string> = {};
    for (const k of ['HTTP', 'HTTPS', 'ACME', 'UPSTREAM', 'MGMT', 'DNS', 'DNS_MGMT']) ports[`DEMO_${k}_PORT`] = String(await freePort());
    try {
      const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile('bash', [join(root, 'scripts/https-local-demo.sh')], { env: { ...sb.env, ...ports }, timeout: 280_000, maxBuffer: 8 << 20 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
      expect(code, `${stdout}\n${stderr}`).toBe(0);
      expect(stdout).toContain('certificate issued');
      expect(stdout).toContain(`hello from 127.0.0.1 through blog.inlets-demo.test:${ports.DEMO_HTTPS_PORT}`);
      expect(stdout).toMatch(/blog\.inlets-demo\.test {2}HTTPS works: certificate by Pebble/);
      expect(await stateRecords(sb.configDir)).toEqual([]);
    } finally {
      await sb.cleanup();
    }
  }, 300_000);
});
