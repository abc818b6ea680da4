/**
 * Parsing only: the real command objects with their handlers swapped for a recorder, so nothing
 * runs. Checks flags, defaults, positionals, strictness and the errors yargs raises.
 */
import type { CommandModule } from 'yargs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { allCommands, buildParser } from '../../src/cli/parser.js';

interface Parsed {
  command?: string;
  args?: Record<string, unknown>;
}

async function parse(...argv: string[]): Promise<Parsed> {
  const seen: Parsed = {};
  const commands: CommandModule[] = allCommands().map((c) => ({
    ...c,
    handler: (args: Record<string, unknown>) => {
      seen.command = String(Array.isArray(c.command) ? c.command[0] : c.command).split(' ')[0];
      seen.args = args;
    },
  }));
  // Help and errors must not print from here: yargs writes help with console.log.
  const parser = buildParser(argv, commands);
  await parser.parseAsync();
  return seen;
}

async function usageError(...argv: string[]): Promise<UsageError> {
  try {
    await parse(...argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error(`expected a usage error for: ${argv.join(' ')}`);
}

describe('create parsing', () => {
  it('has the inletsctl flags with their defaults', async () => {
    const { command, args } = await parse('create');
    expect(command).toBe('create');
    expect(args).toMatchObject({ 'control-port': 8123, poll: '2s', timeout: '10m', firewall: false, 'keep-on-failure': false, 'dry-run': false, json: false, test: false });
    // No default for --provider or --region: absent values can be asked on a terminal.
    expect(args!.provider).toBeUndefined();
    expect(args!.region).toBeUndefined();
    expect(args!.name).toBeUndefined();
  });

  it('reads the name, provider, placement, credentials and tunnel flags', async () => {
    const { args } = await parse(
      'create', 'my-tunnel', '--provider', 'local', '--region', 'x1', '--plan', 'p', '--zone', 'z',
      '--access-token-file', '/tmp/t', '--secret-key', 's', '--project-id', 'proj', '--api-url', 'http://127.0.0.1:1',
      '--ports', '80,443', '--ports', '22', '--control-port', '9000', '--inlets-token', 'tok', '--poll', '1s',
      '--timeout', '2m', '--firewall', '--keep-on-failure', '--json', '--dry-run', '--test',
    );
    expect(args).toMatchObject({
      name: 'my-tunnel', provider: 'local', region: 'x1', plan: 'p', zone: 'z', 'access-token-file': '/tmp/t', 'secret-key': 's',
      'project-id': 'proj', 'api-url': 'http://127.0.0.1:1', ports: ['80,443', '22'], 'control-port': 9000, 'inlets-token': 'tok',
      poll: '1s', timeout: '2m', firewall: true, 'keep-on-failure': true, json: true, 'dry-run': true, test: true,
    });
  });

  it('refuses unknown flags, unknown providers and a bad control port type', async () => {
    expect((await usageError('create', '--bogus')).message).toMatch(/Unknown argument: bogus/);
    expect((await usageError('create', '--provider', 'nowhere')).message).toMatch(/Invalid values|Choices/);
    expect((await usageError('create', 'a', 'b')).message).toMatch(/Unknown argument/);
  });

  it('takes the HTTPS-mode flags; --tcp has no default so that a conflict with --letsencrypt-domain can be seen', async () => {
    const { args } = await parse('create', '--letsencrypt-domain', 'example.com', '--letsencrypt-domain', 'b.example.com', '--letsencrypt-issuer', 'staging', '--http-port', '8080');
    expect(args).toMatchObject({ 'letsencrypt-domain': ['example.com', 'b.example.com'], 'letsencrypt-issuer': 'staging', 'http-port': 8080 });
    expect(args!.tcp).toBeUndefined();
    expect((await usageError('create', '--letsencrypt-issuer', 'test')).message).toMatch(/Invalid values|Choices/);
    expect((await usageError('create', '--http')).message).toMatch(/Unknown argument: http/);
  });
});

describe('delete parsing', () => {
  it('takes a name, --id or --ip, and --yes / -y', async () => {
    expect((await parse('delete', 'n1', '-y')).args).toMatchObject({ name: 'n1', yes: true, timeout: '10m' });
    expect((await parse('delete', '--id', '42', '--provider', 'local')).args).toMatchObject({ id: '42', provider: 'local', yes: false });
    expect((await parse('delete', '--ip', '127.0.0.9')).args).toMatchObject({ ip: '127.0.0.9' });
  });

  it('wants exactly one target', async () => {
    expect((await usageError('delete')).message).toMatch(/exactly one of/);
    expect((await usageError('delete', 'n1', '--ip', '1.2.3.4')).message).toMatch(/exactly one of/);
  });
});

describe('other commands', () => {
  it('parses list (alias ls), providers, version, test and download', async () => {
    expect(await parse('list', '--json')).toMatchObject({ command: 'list', args: { json: true, 'state-only': false } });
    expect((await parse('ls')).command).toBe('list');
    expect((await parse('providers', '--json')).args).toMatchObject({ json: true });
    expect((await parse('version')).command).toBe('version');
    expect((await parse('test', 'n1', '--pings', '5')).args).toMatchObject({ name: 'n1', pings: 5 });
    expect((await parse('download', '--version', '0.1.0')).args).toMatchObject({ version: '0.1.0' });
  });

  it('needs a command and refuses unknown ones', async () => {
    expect((await usageError()).message).toMatch(/choose a command/);
    expect((await usageError('creat')).message).toBe('unknown command "creat". Did you mean create?');
  });

  it('runs no handler for --help', async () => {
    const original = console.log;
    const printed: string[] = [];
    console.log = (...a: unknown[]) => void printed.push(a.join(' '));
    try {
      expect(await parse('create', '--help')).toEqual({});
    } finally {
      console.log = original;
    }
    expect(printed.join('\n')).toMatch(/Examples:/);
  });
});

describe('coming from the Go inletsctl (issue 14)', () => {
  it('takes its short flags on create and -i on delete', async () => {
    const { args } = await parse('create', '-p', 'local', '-r', 'r1', '-z', 'z1', '-s', 'big', '-a', 'tok', '-f', '/tmp/t', '-t', 'itok', '-n', '5s');
    expect(args).toMatchObject({ provider: 'local', region: 'r1', zone: 'z1', plan: 'big', 'access-token': 'tok', 'access-token-file': '/tmp/t', 'inlets-token': 'itok', poll: '5s' });
    expect((await parse('delete', '-i', '42', '-p', 'local', '-a', 'tok')).args).toMatchObject({ id: '42', provider: 'local', 'access-token': 'tok' });
  });

  it('accepts delete --region/--zone and create --inlets-version instead of refusing them', async () => {
    expect((await parse('delete', '--id', '42', '--region', 'lon1', '--zone', 'z')).args).toMatchObject({ region: 'lon1', zone: 'z' });
    expect((await parse('create', '--inlets-version', '0.9.1')).args).toMatchObject({ 'inlets-version': '0.9.1' });
  });

  it('names an unknown flag once, as typed, without its camelCase twin', async () => {
    expect((await usageError('list', '--inlets-version', '1')).message).toBe('Unknown argument: inlets-version');
    expect((await usageError('create', '--bogus-one', '--bogus-two')).message).toBe('Unknown arguments: bogus-one, bogus-two');
  });

  it('answers every unknown command in one style', async () => {
    expect((await usageError('frobnicate')).message).toBe('unknown command "frobnicate". Commands: create, delete, list, ls, prune, test, download, providers, version.');
    expect((await usageError('creat')).message).toBe('unknown command "creat". Did you mean create?');
  });

  it('reads `--timeout -5s` as a value (then refused by the duration parser), not as short flags', async () => {
    expect((await parse('create', '--timeout', '-5s')).args).toMatchObject({ timeout: '-5s' });
  });
});
