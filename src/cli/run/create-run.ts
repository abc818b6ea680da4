/**
 * `inletsctl create`: turns flags (and, on a terminal, answers) into a plan, runs it with progress
 * and signal handling, and prints the result as text or one JSON object.
 */
import { CodedError, UsageError } from '../../errors.js';
import { clientCommand, deleteCommandFor, dnsRecords, tunnelUrl } from '../../core/connection-info.js';
import { modeFromArgs } from './tunnel-mode-args.js';
import { portFlag } from './flag-values.js';
import { createTunnel, planTunnel, type CreatedTunnel, type TunnelPlan } from '../../core/create-tunnel.js';
import { userDataText } from '../../core/user-data/render.js';
import { parseDuration } from '../../core/duration.js';
import { generateName, validateName } from '../../core/names.js';
import { printJson, printText } from '../../core/output.js';
import { formatDuration } from '../../core/poller.js';
import { createProgress } from '../../core/progress.js';
import type { ProviderDescription } from '../../core/provider.js';
import { registry } from '../../core/registry.js';
import { StateStore, configDir, type TunnelRecord } from '../../core/state-store.js';
import type { CertificateInfo } from '../../engine/server/status-info.js';
import { withDetails } from '../error-details.js';
import { askChoice, isInteractive } from './interactive.js';
import { buildProviderContext } from './provider-context.js';
import { onInterrupt } from './signals.js';

export async function runCreate(args: Record<string, unknown>): Promise<void> {
  const json = args.json === true;
  const dryRun = args['dry-run'] === true;
  if (dryRun && args.test === true) throw new UsageError('--dry-run creates nothing, so there is nothing for --test to test: drop one of them', 'CONFLICTING_FLAGS');
  const interactive = isInteractive();
  const reg = registry();

  let providerName = str(args.provider);
  if (providerName === undefined && interactive) {
    providerName = await askChoice(
      'Provider',
      reg.descriptions().map((d) => ({ value: d.name, name: `${d.name} (${d.title})`, description: `${d.defaults.region}, ${d.defaults.plan}, ${d.defaults.monthlyUsd === null ? 'your cloud\'s price' : `~$${d.defaults.monthlyUsd}/month`}` })),
      reg.defaultName,
    );
  }
  const description = reg.describe(providerName ?? reg.defaultName);
  checkPlacement(description, args);
  let region = str(args.region);
  if (region === undefined && interactive && description.placement !== false && description.regions.length > 1) {
    region = await askChoice('Region', description.regions.map((r) => ({ value: r, name: r })), description.defaults.region);
  }

  const name = validateName(str(args.name) ?? generateName());
  const controlPort = portFlag(args['control-port'], 'control-port');
  const ports = parsePorts(args.ports, controlPort);
  const mode = modeFromArgs(args, controlPort, ports);
  const pollMs = parseDuration(args.poll as string, 'poll');
  const timeoutMs = parseDuration(args.timeout as string, 'timeout');
  const cleanupTimeoutMs = parseDuration((args['cleanup-timeout'] as string | undefined) ?? '2m', 'cleanup-timeout');
  const ttlMs = args.ttl === undefined ? undefined : parseDuration(args.ttl as string, 'ttl');
  const token = args['inlets-token'] === undefined ? undefined : str(args['inlets-token']);
  if (args['inlets-token'] !== undefined && !token) throw new UsageError('--inlets-token must not be empty', 'EMPTY_TOKEN');

  const store = new StateStore(configDir());
  if (!dryRun && (await store.get(name))) {
    throw new UsageError(`a tunnel named "${name}" already exists (see: inletsctl list); choose another name`, 'NAME_TAKEN');
  }
  const context = await buildProviderContext(description, args, { interactive, needCredentials: !dryRun });
  if (context.missing.length) {
    throw new UsageError(`missing ${context.missing.join('; ')} (stdin is not a terminal, so nothing was asked)`, 'MISSING_VALUES');
  }
  // A dry run makes nothing, as it needs no credentials.
  const needed = dryRun ? [] : Object.entries(description.extraFlags).filter(([flag, spec]) => spec.requiredToCreate && context.options[flag] === undefined);
  if (needed.length) {
    const ways = needed.map(([flag, spec]) => `--${flag}${spec.env ? ` (or $${spec.env})` : ''}`);
    throw new UsageError(`${description.name} needs ${ways.join(' and ')} to create`, 'MISSING_VALUES');
  }

  const plan = planTunnel({
    name,
    description,
    region: region ?? description.defaults.region,
    plan: str(args.plan) ?? description.defaults.plan,
    image: description.defaults.image,
    zone: str(args.zone) ?? description.defaults.zone,
    controlPort,
    ports,
    https: mode.mode === 'https' ? mode.https : undefined,
    firewall: args.firewall === true,
    token,
    apiUrl: context.ctx.apiUrl,
    options: context.options,
    expiresAt: ttlMs === undefined ? undefined : new Date(Date.now() + ttlMs).toISOString(),
  });
  if (dryRun) return printDryRun(plan, json);

  const progress = await createProgress();
  const provider = await reg.instantiate(description.name, context.ctx);
  const abort = new AbortController();
  const cleanupAbort = new AbortController();
  let cleaningUp = false;
  // Before clean-up, a signal stops create (which then cleans up); during clean-up, it stops that.
  const stopListening = onInterrupt((signal) => {
    if (!cleaningUp && !abort.signal.aborted) {
      progress.info(`${signal}: stopping; deleting what was created (press Ctrl-C again to stop cleaning up)`);
      abort.abort(new CodedError('INTERRUPTED', `interrupted by ${signal}`));
    } else if (!cleanupAbort.signal.aborted) {
      progress.info(`${signal}: clean-up stopped; the tunnel stays in state as failed: ${deleteCommandFor(name)}`);
      cleanupAbort.abort(new CodedError('INTERRUPTED', `clean-up interrupted by ${signal}`));
    }
  });
  let result: CreatedTunnel;
  try {
    result = await createTunnel(plan, provider, store, progress, {
      pollMs,
      timeoutMs,
      cleanupTimeoutMs,
      onCleanup: () => (cleaningUp = true),
      keepOnFailure: args['keep-on-failure'] === true,
      signal: abort.signal,
      cleanupSignal: cleanupAbort.signal,
      finalCheck: args.test === true ? (record) => runFinalTest(record, (line) => progress.update(line)) : undefined,
    });
  } catch (err) {
    throw withDetails(err, { tunnel: await whatRemains(store, name) });
  } finally {
    stopListening();
    progress.stop();
  }
  printCreated(result, json);
}

/** For the `--json` error: whether the failed tunnel is still recorded (kept) and how to delete it. */
async function whatRemains(store: StateStore, name: string): Promise<Record<string, unknown>> {
  const kept = await store.get(name).catch(() => undefined);
  if (!kept) return { name, kept: false };
  return { name, kept: true, status: kept.status, provider: kept.provider, id: kept.id, ip: kept.ip, deleteCommand: deleteCommandFor(name, { yes: true }) };
}

/** `--test`: traffic through the public address, on the first data port asked for (a firewall may allow only those), or the HTTP port. */
async function runFinalTest(record: TunnelRecord, log: (line: string) => void): Promise<unknown> {
  if (record.mode === 'https') {
    const { runHttpTunnelTest } = await import('../../core/http-tunnel-test.js');
    return runHttpTunnelTest(record, { log });
  }
  const { runTunnelTest } = await import('../../core/tunnel-test.js');
  return runTunnelTest(record, { port: record.ports[0], log });
}

function printCreated(result: CreatedTunnel, json: boolean): void {
  const r = result.record;
  const url = tunnelUrl(r.ip!, r.controlPort);
  const command = clientCommand(r);
  const del = deleteCommandFor(r.name);
  if (json) {
    printJson({
      name: r.name,
      tunnelId: r.tunnelId,
      provider: r.provider,
      region: r.region,
      id: r.id,
      ip: r.ip,
      token: r.token,
      pin: r.pin,
      url,
      controlPort: r.controlPort,
      ports: r.ports,
      mode: r.mode ?? 'tcp',
      ...(r.mode === 'https' && {
        domains: r.domains,
        httpPort: r.httpPort,
        httpsPort: r.httpsPort,
        dnsRecords: dnsRecords(r),
        ...(r.staged && { staged: true }),
        certificates: result.server.certificates ?? [],
      }),
      clientCommand: command,
      clientEnv: 'INLETS_TOKEN',
      deleteCommand: deleteCommandFor(r.name, { yes: true }),
      ...(r.expiresAt ? { expiresAt: r.expiresAt } : {}),
      serverVersion: result.server.version,
      timings: result.timings,
      ...(result.check !== undefined ? { test: result.check } : {}),
    });
    return;
  }
  const t = result.timings;
  printText(
    [
      `Tunnel ${r.name} is ready (${r.provider}, ${r.region}) in ${formatDuration(t.totalMs)}: API ${formatDuration(t.apiMs)}, VM active ${formatDuration(t.activeMs)}, tunnel ready ${formatDuration(t.readyMs)}${t.testMs !== undefined ? `, test ${formatDuration(t.testMs)}` : ''}`,
      '',
      `  IP:     ${r.ip}`,
      `  URL:    ${url}`,
      `  Token:  ${r.token}`,
      `  Pin:    ${r.pin}`,
      ...(r.expiresAt ? [`  Expires: ${r.expiresAt} (then inletsctl prune deletes it, and the node powers off)`] : []),
      ...(r.mode === 'https' ? httpsLines(r, result.server.certificates ?? []) : []),
      '',
      'Connect a client (the token stays out of the process list):',
      `  export INLETS_TOKEN=${r.token}`,
      `  ${command}`,
      '',
      'Delete it when done:',
      `  ${del}`,
    ].join('\n'),
  );
}

/** HTTPS mode: the DNS records to create and where each certificate stands. */
function httpsLines(r: TunnelRecord, certificates: CertificateInfo[]): string[] {
  const state = (d: string) => {
    const c = certificates.find((x) => x.domain === d);
    if (!c) return 'unknown';
    if (c.state === 'issued') return `certificate issued, expires ${c.expiresAt}`;
    return `${c.state === 'waiting' ? 'waiting for DNS' : 'error'}${c.lastError ? `: ${c.lastError}` : ''}`;
  };
  const records = dnsRecords(r);
  const width = Math.max(...records.map((d) => d.name.length));
  return [
    '',
    'Create these DNS records; the exit node asks for each certificate again until the record points to it:',
    ...records.map((d) => `  ${d.type.padEnd(4)} ${d.name.padEnd(width)}  ${d.value}    (${state(d.name)})`),
    `  Public: http://${r.domains![0]}${r.httpPort === 80 ? '' : `:${r.httpPort}`} redirects to https://${r.domains![0]}${r.httpsPort === 443 ? '' : `:${r.httpsPort}`} once issued (see: inletsctl test ${r.name})`,
  ];
}

function printDryRun(plan: TunnelPlan, json: boolean): void {
  const { record: r, request } = plan;
  // Gzipped user-data (providers taking binary) is shown decompressed: that is what cloud-init reads.
  const text = userDataText(request.userData);
  const gzipped = text.length > 0 && !request.userData.equals(Buffer.from(text, 'utf8'));
  if (json) {
    printJson({
      dryRun: true,
      name: r.name,
      provider: r.provider,
      region: r.region,
      plan: r.plan,
      image: r.image,
      zone: r.zone,
      controlPort: r.controlPort,
      ports: r.ports,
      mode: r.mode ?? 'tcp',
      ...(r.mode === 'https' && { domains: r.domains, httpPort: r.httpPort, httpsPort: r.httpsPort }),
      firewall: request.firewall,
      pin: r.pin,
      ...(r.expiresAt ? { expiresAt: r.expiresAt } : {}),
      userDataBytes: request.userData.length,
      userDataLimitBytes: plan.userDataLimitBytes,
      userDataGzipped: gzipped,
      ...(r.staged && { staged: true, stagedServerBytes: plan.stagedServer!.length }),
      userData: text,
    });
    return;
  }
  printText(
    [
      `Dry run: nothing was created and no state was written. ${r.provider} would be asked for:`,
      `  name:      ${r.name}`,
      `  region:    ${r.region}${r.zone ? ` (zone ${r.zone})` : ''}`,
      `  plan:      ${r.plan}`,
      `  image:     ${r.image}`,
      `  mode:      ${r.mode === 'https' ? `HTTPS for ${r.domains!.join(', ')} (HTTP ${r.httpPort}, HTTPS ${r.httpsPort})` : 'TCP'}`,
      `  ports:     control ${r.controlPort}${r.mode === 'https' ? `, HTTP ${r.httpPort}, HTTPS ${r.httpsPort}` : ''}${r.ports.length ? `, data ${r.ports.join(', ')}` : ''}${request.firewall ? ' (firewall)' : ''}`,
      ...(r.staged ? [`  staged:    the server (${plan.stagedServer!.length} bytes) does not fit the user-data: create would deliver it to the node's control port (PROTOCOL.md §15)`] : []),
      `  user-data: ${request.userData.length} bytes of at most ${plan.userDataLimitBytes}${gzipped ? ' (gzipped; shown decompressed)' : ''}`,
      '',
      '--- user-data (holds a throw-away token and TLS key) ---',
      text,
    ].join('\n'),
  );
}

/**
 * Region and zone against what the provider describes, before any work: a region it does not list,
 * or a zone for a provider without zones, is a usage error.
 */
function checkPlacement(description: ProviderDescription, args: Record<string, unknown>): void {
  const region = str(args.region);
  if (region !== undefined && description.regions.length > 0 && !description.regions.includes(region)) {
    throw new UsageError(`${description.name} has no region "${region}"; its regions: ${description.regions.join(', ')}`, 'UNKNOWN_REGION');
  }
  if (str(args.zone) !== undefined && !(description.zones ?? description.defaults.zone !== undefined)) {
    throw new UsageError(`${description.name} has no zones: drop --zone (the region alone places the VM)`, 'NO_ZONES');
  }
}

/** `--ports 80,443 --ports 22` → [22, 80, 443]: sorted, unique, never the control port. */
function parsePorts(value: unknown, controlPort: number): number[] {
  const items = (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter(Boolean);
  const ports = [...new Set(items.map((s) => portFlag(s, 'ports')))].sort((a, b) => a - b);
  if (ports.includes(controlPort)) throw new UsageError(`--ports must not include the control port ${controlPort}`, 'BAD_PORT');
  return ports;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
