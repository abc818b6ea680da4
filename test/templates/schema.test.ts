/** The rendered cloud-config is valid by cloud-init's own schema (Debian's package `cloud-init`). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderUserData, userDataText } from '../../src/core/user-data/render.js';
import { fixtureInput } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'inlets-schema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function schema(text: string): { status: number | null; output: string } {
  const file = join(dir, `doc-${Math.random().toString(16).slice(2)}.yaml`);
  writeFileSync(file, text);
  const r = spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`cloud-init is needed for this test (apt-get install cloud-init): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('cloud-init schema', () => {
  it('accepts the rendered TCP-mode cloud-config (un-gzipped)', () => {
    const text = userDataText(renderUserData(fixtureInput('cloud-config', true)));
    const r = schema(text);
    expect(r.output).toContain('Valid cloud-config');
    expect(r.status).toBe(0);
  });

  it('rejects a document with a wrong write_files entry (the check can fail)', () => {
    const text = userDataText(renderUserData(fixtureInput('cloud-config', false))).replace('    owner: "root:root"\n', '    owner: "root:root"\n    bogus_key: "x"\n');
    const r = schema(text);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('bogus_key');
  });
});
