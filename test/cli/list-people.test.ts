/**
 * `inletsctl list` for people (issue 14, item 5): one short status word per cell and drift shown
 * for a failed node, bad records skipped with a warning, unknown state versions refused, a state
 * file others can read pointed out.
 */
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { joinListings } from '../../src/core/list-tunnels.js';
import type { TunnelRecord } from '../../src/core/state-store.js';
import { expiryText, formatListTable, shortStatus } from '../../src/cli/run/list-table.js';
import { makeSandbox, requireBuild, runCli, type Sandbox } from './cli-harness.js';

const record = (name: string, extra: Partial<TunnelRecord> = {}): TunnelRecord => ({
  name, provider: 'local', region: 'loopback', status: 'ready', id: name, ip: '127.0.0.9', token: 'a'.repeat(64), pin: `sha256:${'b'.repeat(64)}`,
  controlPort: 8123, ports: [], createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', ...extra,
});

describe('the list table', () => {
  it('shows one short status and "provider reports error" for a local server that exited', () => {
    const log = 'the tunnel server exited; last lines of /x/boot.log:\n' + 'Error: listen EADDRINUSE 127.0.0.9:8123\n'.repeat(8);
    const rows = joinListings([record('dead')], new Map([['local', { hosts: [{ name: 'dead', id: 'dead', status: 'error' as const, providerStatus: log }] }]]));
    expect(rows[0].drift).toBe('broken');
    const table = formatListTable(rows);
    expect(table.split('\n')).toHaveLength(2);
    expect(Math.max(...table.split('\n').map((l) => l.length))).toBeLessThan(140);
    expect(table).toContain('the tunnel server exited  provider reports error');
    expect(shortStatus({ cloud: 'active', cloudStatus: 'running (pid 42)' })).toBe('running (pid 42)');
    expect(shortStatus({ cloud: 'active' })).toBe('active');
  });

  it('says when a tunnel expires', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(expiryText('2026-01-01T01:59:30Z', now)).toBe('in 1h 59m');
    expect(expiryText('2026-01-03T02:00:00Z', now)).toBe('in 2d 2h');
    expect(expiryText('2025-12-31T23:00:00Z', now)).toBe('expired');
    expect(expiryText(undefined, now)).toBe('-');
  });
});

describe('inletsctl list on a damaged state file', () => {
  let sb: Sandbox | undefined;
  afterEach(async () => {
    await sb?.cleanup();
    sb = undefined;
  });

  async function withState(content: unknown, mode = 0o600): Promise<{ sb: Sandbox; path: string }> {
    requireBuild();
    sb = await makeSandbox();
    await mkdir(sb.configDir, { recursive: true, mode: 0o700 });
    const path = join(sb.configDir, 'tunnels.json');
    await writeFile(path, JSON.stringify(content));
    await chmod(path, mode);
    return { sb, path };
  }

  it('skips a record missing fields with a warning, lists the rest, and leaves the file alone', async () => {
    const { sb, path } = await withState({ version: 1, tunnels: [{ name: 'half' }, record('whole')] });
    const r = await runCli(['list', '--state-only'], sb.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: skipping record 1 "half" of ${path}: no "provider"`);
    expect(r.stdout).toMatch(/^whole\s+local/m);
    expect(r.stderr).not.toContain('TypeError');
  });

  it('refuses a state version it does not know, clearly', async () => {
    const { sb, path } = await withState({ version: 2, tunnels: [] });
    const r = await runCli(['list', '--state-only'], sb.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`inletsctl: ${path} is state version 2; this inletsctl reads version 1 only`);
  });

  it('warns when others can read the state file (it holds tokens) and does not change its mode itself', async () => {
    const { sb, path } = await withState({ version: 1, tunnels: [record('open')] }, 0o644);
    const r = await runCli(['list', '--state-only'], sb.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${path} has mode 0644 and holds tunnel tokens: run chmod 600 ${path}`);
    expect((await stat(path)).mode & 0o777).toBe(0o644);
  });
});
