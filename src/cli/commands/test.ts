/**
 * `inletsctl test [name]`: send traffic through a tunnel's exit node and report round trip and
 * throughput. The handler loads the engine only when run, so `--help` stays fast.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CodedError, UsageError } from '../../errors.js';

export interface TestArgs {
  name?: string;
  port?: number;
  pings: number;
  'transfer-mb': number;
  timeout: string;
  cacert?: string;
  json: boolean;
}

export const testCommand: CommandModule<object, TestArgs> = {
  command: 'test [name]',
  describe: 'Prove a tunnel works end to end: traffic through its public address, round trip and throughput',
  builder: (yargs: Argv) =>
    yargs
      .positional('name', { type: 'string', describe: 'Tunnel to test (default: the most recently created one)' })
      .option('port', { type: 'number', describe: 'Public port to test through (default: a random free port in 20000-29999)' })
      .option('pings', { type: 'number', default: 20, describe: 'Round trips to measure' })
      .option('transfer-mb', { type: 'number', default: 16, describe: 'MiB echoed through the tunnel to measure throughput' })
      .option('timeout', { type: 'string', default: '30s', describe: 'How long to wait for the connection and the pings (30s, 2m…)' })
      .option('cacert', { type: 'string', describe: 'HTTPS mode: PEM file of a CA to trust for the domains\' certificates, beside the system\'s (staging, or an ACME server of your own)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object on stdout (for scripts); progress goes to stderr' })
      .example('$0 test', 'Test the most recently created tunnel')
      .example('$0 test my-tunnel --port 8080', 'Test through port 8080 (one opened in the cloud firewall at create)')
      .example('$0 test blog --cacert pebble-root.pem', 'An HTTPS-mode tunnel: HTTP through the node, and HTTPS for each issued domain')
      .example('$0 test --json --transfer-mb 64', 'A bigger transfer, one JSON object for CI') as unknown as Argv<TestArgs>,
  handler: async (argv: ArgumentsCamelCase<TestArgs>) => {
    const [{ StateStore }, { parseDuration }] = await Promise.all([import('../../core/state-store.js'), import('../../core/duration.js')]);
    const timeoutMs = parseDuration(argv.timeout, 'timeout');
    const store = new StateStore();
    const record = await pickTunnel(await store.list(), argv.name, store.path);
    const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    const common = { pings: argv.pings, transferBytes: Math.round(argv['transfer-mb'] * 1024 * 1024), timeoutMs, log };
    if (record.mode === 'https') {
      if (argv.port !== undefined) throw new UsageError(`--port is for TCP-mode tunnels: ${record.name} is HTTPS mode, tested on its HTTP port ${record.httpPort ?? 80}`, 'CONFLICTING_FLAGS');
      const { runHttpTunnelTest, formatHttpTestReport } = await import('../../core/http-tunnel-test.js');
      const { certificateFile } = await import('../run/flag-values.js');
      const caPem = argv.cacert === undefined ? undefined : certificateFile(argv.cacert, 'cacert');
      const report = await runHttpTunnelTest(record, { ...common, caPem });
      process.stdout.write(argv.json ? `${JSON.stringify(report)}\n` : formatHttpTestReport(report));
      return;
    }
    if (argv.cacert !== undefined) throw new UsageError(`--cacert is for HTTPS-mode tunnels: ${record.name} is TCP mode`, 'CONFLICTING_FLAGS');
    const { runTunnelTest, formatTestReport } = await import('../../core/tunnel-test.js');
    const report = await runTunnelTest(record, { ...common, port: argv.port });
    process.stdout.write(argv.json ? `${JSON.stringify(report)}\n` : formatTestReport(report));
  },
};

/** The named record, else the most recently created one; CodedError when there is none. */
export function pickTunnel<T extends { name: string; createdAt: string }>(records: T[], name: string | undefined, statePath: string): T {
  if (name) {
    const found = records.find((r) => r.name === name);
    if (!found) throw new CodedError('NOT_IN_STATE', `no tunnel named "${name}" in ${statePath} (see: inletsctl list)`);
    return found;
  }
  if (!records.length) throw new CodedError('NO_TUNNELS', `no tunnels in ${statePath}; create one first: inletsctl create --provider local --tcp`);
  return [...records].sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1)!;
}
