/**
 * Debian's real Prometheus (a Go program: it verifies certificates by name, no pins) scrapes the
 * engine's /metrics over TLS with verification on and the bearer token, as README shows:
 * - the certificate inletsctl makes (tunnelTls) as `ca_file`, `server_name` = the tunnel's name,
 *   with README's scrape configuration and README's commands to fetch and check the certificate;
 * - the certificate `inlets tcp server --tls-san 127.0.0.1` generates, verified by the target's IP;
 * - and, so the check can fail, a wrong server_name, which Prometheus must report as `up == 0`.
 * Needs /usr/bin/prometheus (apt-get install prometheus; .ci/run installs it).
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tunnelServerName, tunnelTls } from '../../src/core/tunnel-tls.js';
import { cleanupAll, freePort, randomToken, ROOT, spawnInlets, startServer, tempDir, track, waitFor } from '../helpers/engine-harness.js';

const PROMETHEUS = '/usr/bin/prometheus';

afterEach(cleanupAll);

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** README's example values, replaced by this test's. */
const EXAMPLE = { target: '203.0.113.10:8123', name: '1a2b3c4d5e6f.inlets.invalid', crt: '/etc/prometheus/inlets.crt', token: '/etc/prometheus/inlets.token' };

/** README's fenced block that contains `marker`, with the example values replaced. */
function readmeBlock(marker: string, values: typeof EXAMPLE): string {
  const block = readme.split('```').find((b) => b.includes(marker));
  if (!block) throw new Error(`README has no block with ${marker}`);
  let text = block.replace(/^\w*\n/, '');
  for (const key of Object.keys(EXAMPLE) as (keyof typeof EXAMPLE)[]) text = text.split(EXAMPLE[key]).join(values[key]);
  return text;
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** GET /api/v1/query on the local Prometheus; its result vector. */
async function query(port: number, expr: string): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; data: { result: Sample[] } };
  if (body.status !== 'success') throw new Error(`query ${expr}: ${JSON.stringify(body)}`);
  return body.data.result;
}

/** Starts Prometheus on 127.0.0.1 with `config` and its own storage; killed by cleanupAll. */
async function startPrometheus(dir: string, config: string): Promise<number> {
  const port = await freePort();
  await writeFile(join(dir, 'prometheus.yml'), config);
  const child = spawn(
    PROMETHEUS,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => child.once('exit', r));
  track(async () => {
    child.kill('SIGTERM');
    const hard = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(hard);
  });
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
      return (await fetch(`http://127.0.0.1:${port}/-/ready`).catch(() => undefined))?.ok === true;
    },
    `prometheus ready on ${port} (stderr: ${stderr})`,
    30_000,
    100,
  );
  return port;
}

describe('a real Prometheus scrapes /metrics with certificate verification', () => {
  it('verifies by the tunnel name and by --tls-san, and reports a wrong server_name as down', async () => {
    const dir = await tempDir();
    const tunnelId = '0123456789ab';
    const tls = tunnelTls({ name: 'inlets-prom-check', tunnelId });
    const tunnel = await startServer({ tls: { certPem: tls.certPem, keyPem: tls.keyPem } });
    const values = { target: `127.0.0.1:${tunnel.port}`, name: tunnelServerName(tunnelId), crt: join(dir, 'tunnel.crt'), token: join(dir, 'tunnel.token') };

    // README's commands: fetch the certificate from the server, and its key's hash is the pin.
    const sh = readmeBlock('openssl s_client', values);
    // (asynchronously: the server answering it runs in this process)
    const { stdout: hash } = await promisify(execFile)('sh', ['-c', sh], { encoding: 'utf8', timeout: 20_000 });
    expect(`sha256:${hash.split(' ')[0]}`).toBe(tls.pin);
    expect(await readFile(values.crt, 'utf8')).toBe(tls.certPem);

    const cliToken = randomToken();
    const cliPort = await freePort();
    const state = join(dir, 'state');
    const cli = spawnInlets(
      ['tcp', 'server', '--control-addr', '127.0.0.1', '--control-port', String(cliPort), '--data-addr', '127.0.0.1', '--token-env', 'T', '--state-dir', state, '--tls-san', '127.0.0.1', '--tls-san', 'localhost'],
      { T: cliToken },
    );
    await cli.waitOutput(/TLS public key pin/);

    await writeFile(join(dir, 'tunnel.token'), tunnel.token, { mode: 0o600 });
    await writeFile(join(dir, 'cli.token'), cliToken, { mode: 0o600 });
    const job = (name: string, target: string, tokenFile: string, caFile: string, serverName?: string) =>
      [
        `  - job_name: ${name}`,
        '    scheme: https',
        '    authorization:',
        '      type: Bearer',
        `      credentials_file: ${tokenFile}`,
        '    tls_config:',
        `      ca_file: ${caFile}`,
        ...(serverName ? [`      server_name: ${serverName}`] : []),
        '    static_configs:',
        `      - targets: ["${target}"]`,
      ].join('\n');
    // README's scrape_configs (job "inlets") plus two more jobs of the same shape.
    const fromReadme = readmeBlock('job_name: inlets', values);
    expect(fromReadme).toMatch(/^scrape_configs:\n {2}- job_name: inlets\n/);
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      fromReadme.trimEnd(),
      job('tls-san', `127.0.0.1:${cliPort}`, join(dir, 'cli.token'), join(state, 'server.crt')),
      job('wrong-name', `127.0.0.1:${tunnel.port}`, join(dir, 'tunnel.token'), join(dir, 'tunnel.crt'), 'someone-else.inlets.invalid'),
      '',
    ].join('\n');
    expect(await readFile(join(state, 'server.crt'), 'utf8')).toContain('BEGIN CERTIFICATE');
    const promPort = await startPrometheus(dir, config);

    // Every job scraped at least once (each has an `up` sample), within a bounded wait.
    let up: Sample[] = [];
    await waitFor(async () => (up = await query(promPort, 'up')).length === 3, 'an up sample for all three jobs', 30_000, 250);
    const upOf = (jobName: string) => up.find((s) => s.metric.job === jobName)?.value[1];
    await waitFor(async () => {
      up = await query(promPort, 'up');
      return upOf('inlets') === '1' && upOf('tls-san') === '1';
    }, `both verified jobs up (now ${JSON.stringify(up.map((s) => [s.metric.job, s.value[1]]))})`, 30_000, 250);
    expect(upOf('wrong-name')).toBe('0');

    // Series from the engine, read back through Prometheus's API.
    const clients = await query(promPort, 'inlets_connected_clients{job="inlets"}');
    expect(clients.map((s) => s.value[1])).toEqual(['0']);
    const rss = await query(promPort, 'process_resident_memory_bytes{job="tls-san"}');
    expect(Number(rss[0]?.value[1])).toBeGreaterThan(10 * 1024 * 1024);
    const lag = await query(promPort, 'nodejs_eventloop_lag_seconds{job="tls-san"}');
    expect(lag).toHaveLength(1);
    // Nothing at all from the job whose name does not match: the scrape itself failed.
    expect(await query(promPort, 'inlets_connected_clients{job="wrong-name"}')).toEqual([]);
    // And the failures were TLS ones, not tokens: the engine counted no bad token.
    expect((await query(promPort, 'inlets_auth_failures_total{job="inlets"}')).map((s) => s.value[1])).toEqual(['0']);
  }, 120_000);
});
