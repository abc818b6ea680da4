/**
 * The two forms are one plan: both parse back to what templates/ describes, and the boot script,
 * run by bash (paths moved under a temporary root, apt-get and systemctl left out), writes the
 * same bytes with the same modes as cloud-init's write_files would.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildExitNodePlan, type ExitNodePlan } from '../../src/core/user-data/exit-node-plan.js';
import { parseUserData, renderUserData } from '../../src/core/user-data/render.js';
import { readYaml } from '../../src/core/user-data/yaml-subset.js';
import { parse as parseYamlLibrary } from 'yaml';
import { FIXTURE_BUNDLE, FIXTURE_TLS, FIXTURE_TOKEN, fixtureInput } from './fixtures.js';

/** What a node ends up with: files by path (owner, mode, bytes), packages, commands. */
function effect(plan: ExitNodePlan) {
  return {
    packages: plan.packages,
    commands: plan.commands,
    files: plan.files.map((f) => ({ path: f.path, owner: f.owner, permissions: f.permissions, sha: f.content.toString('base64') })),
  };
}

const expected = buildExitNodePlan({ mode: 'tcp', token: FIXTURE_TOKEN, tls: FIXTURE_TLS, controlPort: 8123, engineBundle: FIXTURE_BUNDLE });
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('cloud-config and boot script', () => {
  it('describe the same files, packages and commands, in every combination of format and compression', () => {
    for (const format of ['cloud-config', 'script'] as const) {
      for (const binary of [false, true]) {
        const parsed = parseUserData(renderUserData(fixtureInput(format, binary)));
        expect(parsed.format).toBe(format);
        expect(effect(parsed.plan)).toEqual(effect(expected));
      }
    }
  });

  it('the cloud-config reads the same with a full YAML parser as with our reader', () => {
    const text = renderUserData(fixtureInput('cloud-config', false)).toString('utf8');
    expect(readYaml(text)).toEqual(parseYamlLibrary(text));
  });

  it('the boot script is valid bash and writes what the plan says when run', () => {
    const script = renderUserData(fixtureInput('script', false)).toString('utf8');
    execFileSync('bash', ['-n'], { input: script });
    const root = mkdtempSync(join(tmpdir(), 'inlets-script-'));
    temps.push(root);
    // Only the file writing runs here: files go under $ROOT, ownership is not changed, and the
    // package and service steps (covered by the real boot test) are left out.
    const runnable = script
      .split('\n')
      .filter((l) => !/^(apt-get|systemctl) /.test(l))
      .map((l) => l.replace(/^put_file \//, 'put_file "$ROOT"/'))
      .join('\n')
      .replace('set -euo pipefail', 'set -euo pipefail\nchown() { :; }');
    execFileSync('bash', ['-c', runnable], { env: { ...process.env, ROOT: root }, stdio: 'pipe' });
    for (const f of expected.files) {
      const path = join(root, f.path);
      expect(readFileSync(path).equals(f.content), f.path).toBe(true);
      expect((statSync(path).mode & 0o777).toString(8).padStart(4, '0'), f.path).toBe(f.permissions);
    }
    expect((statSync(join(root, 'usr/local/lib/inlets')).mode & 0o777).toString(8)).toBe('755');
  });
});
