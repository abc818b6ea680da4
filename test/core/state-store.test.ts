import { mkdtemp, readFile, rm, stat, writeFile, mkdir, readdir, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateStore, configDir, type TunnelRecord } from '../../src/core/state-store.js';

function record(name: string, extra: Partial<TunnelRecord> = {}): TunnelRecord {
  const now = new Date().toISOString();
  return { name, provider: 'fake', region: 'r1', status: 'creating', token: 'a'.repeat(64), pin: `sha256:${'b'.repeat(64)}`, controlPort: 8123, ports: [], createdAt: now, updatedAt: now, ...extra };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inletsctl-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('configDir', () => {
  it('uses an absolute XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configDir({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/u' })).toBe('/x/cfg/inletsctl');
    expect(configDir({ XDG_CONFIG_HOME: 'relative', HOME: '/home/u' })).toBe('/home/u/.config/inletsctl');
    expect(configDir({ HOME: '/home/u' })).toBe('/home/u/.config/inletsctl');
  });
});

describe('StateStore', () => {
  it('starts empty and writes the file 0600 in a 0700 directory', async () => {
    const store = new StateStore(join(dir, 'inletsctl'));
    expect(await store.list()).toEqual([]);
    await store.insert(record('t1'));
    expect((await stat(store.path)).mode & 0o777).toBe(0o600);
    expect((await stat(store.dir)).mode & 0o777).toBe(0o700);
    const parsed = JSON.parse(await readFile(store.path, 'utf8'));
    expect(parsed.version).toBe(1);
    expect(parsed.tunnels.map((t: TunnelRecord) => t.name)).toEqual(['t1']);
  });

  it('tightens an existing directory to 0700', async () => {
    const d = join(dir, 'loose');
    await mkdir(d, { mode: 0o755 });
    const store = new StateStore(d);
    await store.insert(record('t1'));
    expect((await stat(d)).mode & 0o777).toBe(0o700);
  });

  it('refuses a second tunnel of the same name', async () => {
    const store = new StateStore(dir);
    await store.insert(record('t1'));
    await expect(store.insert(record('t1'))).rejects.toMatchObject({ code: 'NAME_TAKEN' });
    expect(await store.list()).toHaveLength(1);
  });

  it('patches and removes records', async () => {
    const store = new StateStore(dir);
    await store.insert(record('t1'));
    await store.insert(record('t2'));
    const patched = await store.patch('t1', { status: 'ready', ip: '127.0.0.9', id: 'i-1' });
    expect(patched).toMatchObject({ name: 't1', status: 'ready', ip: '127.0.0.9', id: 'i-1' });
    expect((await store.get('t1'))?.status).toBe('ready');
    await store.remove('t1');
    await store.remove('absent');
    expect((await store.list()).map((t) => t.name)).toEqual(['t2']);
    await expect(store.patch('t1', { status: 'ready' })).rejects.toMatchObject({ code: 'NOT_IN_STATE' });
  });

  it('loses no record when many writers run at once (lock + re-read)', async () => {
    const names = Array.from({ length: 24 }, (_, i) => `t${i}`);
    // Separate instances, as separate commands would be.
    await Promise.all(names.map((n) => new StateStore(dir).insert(record(n))));
    expect((await new StateStore(dir).list()).map((t) => t.name).sort()).toEqual([...names].sort());
    await Promise.all(names.filter((_, i) => i % 2).map((n) => new StateStore(dir).patch(n, { status: 'ready' })));
    await Promise.all(names.filter((_, i) => i % 3 === 0).map((n) => new StateStore(dir).remove(n)));
    const left = await new StateStore(dir).list();
    expect(left.map((t) => t.name).sort()).toEqual(names.filter((_, i) => i % 3 !== 0).sort());
    expect(left.filter((t) => t.status === 'ready').map((t) => t.name).sort()).toEqual(names.filter((_, i) => i % 3 !== 0 && i % 2).sort());
    // No lock file and no temporary file stays behind.
    expect(await readdir(dir)).toEqual(['tunnels.json']);
  });

  it('readers never see a half-written file while writers work', async () => {
    const store = new StateStore(dir);
    await store.insert(record('seed', { data: { big: 'x'.repeat(200_000) } }));
    let writing = true;
    const writers = (async () => {
      for (let i = 0; i < 30; i++) await store.patch('seed', { data: { big: String(i).repeat(200_000) } });
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const list = await new StateStore(dir).list(); // throws STATE_CORRUPT on a partial file
      expect(list).toHaveLength(1);
      reads++;
    }
    await writers;
    expect(reads).toBeGreaterThan(0);
  });

  it('refuses to overwrite a file it cannot parse', async () => {
    const store = new StateStore(dir);
    await writeFile(store.path, '{"tunnels": [', { mode: 0o600 });
    await expect(store.list()).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
    await expect(store.insert(record('t1'))).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
    expect(await readFile(store.path, 'utf8')).toBe('{"tunnels": [');
  });

  it('breaks a lock left by a dead process, and waits for a live one', async () => {
    const store = new StateStore(dir);
    const lock = join(dir, 'tunnels.json.lock');
    await writeFile(lock, '999999999\n'); // no such pid
    await store.insert(record('t1'));
    expect(await store.get('t1')).toBeDefined();

    await writeFile(lock, `${process.pid}\n`); // held by a live process (this one)
    const released = new Promise<void>((r) => setTimeout(() => rm(lock).then(() => r()), 300));
    await store.insert(record('t2'));
    await released;
    expect((await store.list()).map((t) => t.name)).toEqual(['t1', 't2']);

    // A very old lock counts as stale even when its pid is alive.
    await writeFile(lock, `${process.pid}\n`);
    const old = new Date(Date.now() - 120_000);
    await utimes(lock, old, old);
    await store.insert(record('t3'));
    expect(await store.get('t3')).toBeDefined();
  });

  it('breaks an empty lock once it is two seconds old, and waits for a fresh one', async () => {
    const store = new StateStore(dir);
    const lock = join(dir, 'tunnels.json.lock');
    await writeFile(lock, '');
    const old = new Date(Date.now() - 3_000);
    await utimes(lock, old, old);
    await store.insert(record('t1'));
    expect(await store.get('t1')).toBeDefined();

    await writeFile(lock, ''); // fresh: perhaps being written right now
    const released = new Promise<void>((r) => setTimeout(() => rm(lock).then(() => r()), 300));
    const started = Date.now();
    await store.insert(record('t2'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await released;
    expect((await store.list()).map((t) => t.name)).toEqual(['t1', 't2']);
  });

  it('a writer killed at any moment never leaves a lock that blocks the next command', { timeout: 60_000 }, async () => {
    const writer = fileURLToPath(new URL('../fixtures/state-writer.ts', import.meta.url));
    const store = new StateStore(dir);
    for (let round = 0; round < 8; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', writer, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      // Kill once it is busy writing: after its first update, at a different moment each round.
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
      });
      await new Promise((r) => setTimeout(r, 20 + round * 7));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      const started = Date.now();
      await store.insert(record(`after-${round}`));
      expect(Date.now() - started).toBeLessThan(2_000); // not the 10 s lock wait
    }
    const names = (await store.list()).map((t) => t.name);
    for (let round = 0; round < 8; round++) expect(names).toContain(`after-${round}`);
    // Neither the killed writers' lock nor their private pid files are left.
    expect((await readdir(dir)).filter((f) => f.startsWith('tunnels.json.lock'))).toEqual([]);
  });
});
