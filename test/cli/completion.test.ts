/**
 * Shell completion (issue 14, item 6): scripts for bash, zsh and fish; `completion --help` is help;
 * `delete <TAB>` offers the tunnel names in state. The bash script is run by a real bash.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INLETSCTL, makeSandbox, requireBuild, runCli, type Sandbox } from './cli-harness.js';

const run = promisify(execFile);
let sb: Sandbox;

beforeAll(async () => {
  requireBuild();
  sb = await makeSandbox();
  await mkdir(sb.configDir, { recursive: true, mode: 0o700 });
  const record = (name: string) => ({ name, provider: 'local', region: 'loopback', status: 'ready', token: 'a'.repeat(64), pin: 'sha256:x', controlPort: 8123, ports: [], createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
  await writeFile(join(sb.configDir, 'tunnels.json'), JSON.stringify({ version: 1, tunnels: [record('alpha-one'), record('beta-two')] }), { mode: 0o600 });
});
afterAll(() => sb.cleanup());

const complete = async (...words: string[]) => (await runCli(['__complete', '--', ...words], sb.env)).stdout.split('\n').filter(Boolean);

describe('completion', () => {
  it('prints a script for bash, zsh and fish that calls this inletsctl; --help prints help', async () => {
    for (const [shell, marker] of [['bash', 'complete -o default -F _inletsctl inletsctl'], ['zsh', 'compdef _inletsctl inletsctl'], ['fish', 'complete -c inletsctl']]) {
      const r = await runCli(['completion', shell], sb.env);
      expect(r.code, `${shell}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(marker);
      expect(r.stdout).toContain(`${INLETSCTL} __complete --`);
    }
    const help = await runCli(['completion', '--help'], sb.env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('inletsctl completion [shell]');
    expect(help.stdout).not.toContain('_inletsctl');
  });

  it('offers commands, flags, providers and tunnel names', async () => {
    expect(await complete('')).toEqual(expect.arrayContaining(['create', 'delete', 'prune', 'completion']));
    expect(await complete('create', '--')).toEqual(expect.arrayContaining(['--provider', '--ttl', '--ports', '--json']));
    expect(await complete('create', '--')).not.toContain('--inlets-version'); // hidden compatibility flag
    expect(await complete('create', '--provider', '')).toEqual(expect.arrayContaining(['local', 'digitalocean']));
    expect(await complete('delete', '')).toEqual(['alpha-one', 'beta-two']);
    expect(await complete('delete', '--yes', 'a')).toEqual(['alpha-one', 'beta-two']);
    expect(await complete('delete', 'alpha-one', '')).toEqual([]);
    expect(await complete('completion', '')).toEqual(['bash', 'zsh', 'fish']);
  });

  it('works in a real bash: `inletsctl delete al<TAB>` completes the name', async () => {
    const script = (await runCli(['completion', 'bash'], sb.env)).stdout;
    const probe = `${script}\nCOMP_WORDS=(inletsctl delete al); COMP_CWORD=2; _inletsctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const { stdout } = await run('bash', ['-c', probe], { env: sb.env });
    expect(stdout).toBe('alpha-one\n');
  });
});
