/**
 * On a terminal, missing values are asked for: provider, region, and a required credential (masked),
 * and delete asks to confirm. The CLI runs under `script` (util-linux) so that it gets a real pty;
 * keys are typed when each prompt appears.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, bundleFakeProvider, fakeCloud, makeSandbox, requireBuild, runCli, stateRecords, type Sandbox } from './cli-harness.js';

let moduleDir: string;
let sb: Sandbox;

beforeAll(async () => {
  requireBuild();
  moduleDir = await mkdtemp(join(tmpdir(), 'inletsctl-fake-module-'));
  sb = await makeSandbox({ TERM: 'xterm', FAKE_CLOUD_TOKEN: '' }, await bundleFakeProvider(moduleDir));
});
afterAll(async () => {
  for (const h of (await fakeCloud(sb.cloudDir)).hosts) {
    await runCli(['delete', '--provider', 'fake', '--id', h.id, '--yes', '--poll', '200ms', '--access-token', 'x'], sb.env);
  }
  await sb.cleanup();
  await rm(moduleDir, { recursive: true, force: true });
});

/** Runs the CLI on a pty; when the output shows `waitFor` (after the previous answer), types `keys`. */
function onTerminal(args: string[], answers: [waitFor: string, keys: string][], timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  // A pty made by script(1) without a terminal behind it has no size; give it one.
  const command = `stty cols 120 rows 40 && ${['node', bin, ...args].map((w) => `'${w}'`).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: sb.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let seenUpTo = 0;
  let next = 0;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    output += d;
    while (next < answers.length) {
      const at = output.indexOf(answers[next][0], seenUpTo);
      if (at < 0) break;
      seenUpTo = at + answers[next][0].length;
      // Type a moment later: the prompt switches the terminal to raw mode after drawing itself.
      const keys = answers[next][1];
      setTimeout(() => child.stdin!.write(keys), 300);
      next++;
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? -1 : code, output });
    }),
  );
}

/** The end of a screen capture, for failure messages (a runaway screen must not flood the report). */
const tail = (output: string) => (output.length > 3000 ? `…${output.slice(-3000)}` : output);

const DOWN = '\u001b[B';
const ENTER = '\r';

describe('prompts on a terminal', () => {
  it('asks for provider, region and a masked credential, then creates; delete asks to confirm', async () => {
    // The prompt lists providers in registry order with the cursor on the default; find how far
    // below the default the fake is.
    const listed = JSON.parse((await runCli(['providers', '--json'], sb.env)).stdout) as { default: string; providers: { name: string }[] };
    const fakeIndex = listed.providers.findIndex((p) => p.name === 'fake') - listed.providers.findIndex((p) => p.name === listed.default);
    expect(fakeIndex).toBeGreaterThan(0);
    const created = await onTerminal(
      ['create', 'tty-one', '--poll', '200ms'],
      [
        ['Provider', DOWN.repeat(fakeIndex) + ENTER],
        ['Region', DOWN + ENTER],
        ['access token', 'tty-secret-token' + ENTER],
      ],
    );
    expect(created.code, tail(created.output)).toBe(0);
    expect(created.output.includes('Fake cloud (tests only)'), 'the provider prompt').toBe(true);
    expect(created.output.includes('tty-secret-token'), 'the typed secret is masked').toBe(false);
    expect(created.output.includes('Tunnel tty-one is ready (fake, fake-2)'), tail(created.output)).toBe(true);
    // On a terminal, progress is an ora spinner with ✔ marks, never the timestamped lines of CI logs.
    expect(/✔\S* fake accepted the request \(id 1\)/.test(created.output), 'spinner progress').toBe(true);
    expect(/\d{4}-\d\d-\d\dT[\d:.]+Z Creating/.test(created.output), 'no plain progress lines').toBe(false);
    expect(await stateRecords(sb.configDir)).toEqual([expect.objectContaining({ name: 'tty-one', provider: 'fake', region: 'fake-2', status: 'ready' })]);

    // Confirmation comes first (no secret typed for nothing); declining is a failure (exit 1).
    const declined = await onTerminal(['delete', 'tty-one'], [['Delete tty-one', 'n' + ENTER]]);
    expect(declined.code, tail(declined.output)).toBe(1);
    expect(declined.output.includes('not confirmed: nothing was deleted'), tail(declined.output)).toBe(true);
    expect(declined.output.includes('access token'), 'no token asked after a no').toBe(false);
    expect((await fakeCloud(sb.cloudDir)).hosts).toHaveLength(1);

    const confirmed = await onTerminal(['delete', 'tty-one', '--poll', '200ms'], [['Delete tty-one', 'y' + ENTER], ['access token', 'tty-secret-token' + ENTER]]);
    expect(confirmed.code, tail(confirmed.output)).toBe(0);
    expect(confirmed.output.includes('Deleted tty-one'), tail(confirmed.output)).toBe(true);
    expect((await fakeCloud(sb.cloudDir)).hosts).toEqual([]);
    expect(await stateRecords(sb.configDir)).toEqual([]);
  });
});
