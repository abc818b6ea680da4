/**
 * EC2 credentials through the real, built CLI (a copy of `npm run build`, see build-snapshot.ts):
 * the flags and files of `inletsctl list --provider ec2` must reach the SDK as signed requests the
 * fake verifies, a partial key must be refused before any call, and no secret may be printed.
 * `list` is used because it renders no user-data. The CLI runs with a clean environment and the
 * SDK's metadata probe disabled; its only endpoint is the fake's.
 */
import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ec2Provider } from '../../providers/ec2/index.js';
import { Ec2Fake } from '../fakes/ec2-fake.js';
import type { FakeAwsCredentials } from '../fakes/ec2-sigv4.js';
import type { CliUser } from './contract-helpers.js';
import { builtCliCases } from '../helpers/built-cli-cases.js';
import { killedCreateDeletedByNewProcess } from '../helpers/v2-cli-checks.js';
import { EC2_CLI_ENV } from '../fakes/ec2-entry.js';

const TEMPORARY: FakeAwsCredentials = { accessKeyId: 'ASIACLITEST000000001', secretAccessKey: 'cli-secret-never-printed', sessionToken: 'cli-session-token-never-printed' };

const cli = builtCliCases();
let fake: Ec2Fake;
let user: CliUser;

async function start(credentials: FakeAwsCredentials[]): Promise<void> {
  fake = new Ec2Fake({ boot: false, credentials });
  user = await cli.start(fake, ec2Provider.description);
  delete user.sandbox.env.AWS_ACCESS_KEY_ID; // cliUser's dummy token: each test sets what it needs
  user.sandbox.env.AWS_EC2_METADATA_DISABLED = 'true';
}

/** `list --json` for ec2: the provider's answer, or its error. */
async function list(args: string[] = []): Promise<{ code: number | null; error?: string; output: string }> {
  const r = await user.run(['list', '--json', ...args]);
  const parsed = JSON.parse(r.stdout) as { providerErrors: Record<string, string> };
  return { code: r.code, error: parsed.providerErrors.ec2, output: r.stdout + r.stderr };
}

describe('ec2 credentials through the CLI', () => {
  it('signs with --access-token, --secret-key-file and --session-token-file', { timeout: 60_000 }, async () => {
    await start([TEMPORARY]);
    const secretFile = join(user.sandbox.dir, 'secret');
    const tokenFile = join(user.sandbox.dir, 'session');
    await writeFile(secretFile, `${TEMPORARY.secretAccessKey}\n`, { mode: 0o600 });
    await writeFile(tokenFile, `${TEMPORARY.sessionToken}\n`, { mode: 0o600 });
    const r = await list(['--access-token', TEMPORARY.accessKeyId, '--secret-key-file', secretFile, '--session-token-file', tokenFile]);
    expect(r.error).toBeUndefined();
    expect(fake.log.map((e) => [e.op, e.status])).toEqual([['DescribeInstances', 200]]);
  });

  it('signs with the keys of --profile from the shared credentials file', { timeout: 60_000 }, async () => {
    await start([{ accessKeyId: 'AKIAPROFILE000000001', secretAccessKey: 'profile-secret-never-printed' }]);
    const file = join(user.sandbox.dir, 'aws-credentials');
    await writeFile(file, '[default]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = wrong\n\n[inlets]\naws_access_key_id = AKIAPROFILE000000001\naws_secret_access_key = profile-secret-never-printed\n');
    user.sandbox.env.AWS_SHARED_CREDENTIALS_FILE = file;
    const r = await list(['--profile', 'inlets']);
    expect(r.error).toBeUndefined();
    expect(fake.log).toHaveLength(1);
  });

  it('refuses a key id without its secret before any call, and never prints a secret it was given', { timeout: 60_000 }, async () => {
    await start([TEMPORARY]);
    user.sandbox.env.AWS_ACCESS_KEY_ID = TEMPORARY.accessKeyId;
    const partial = await list();
    expect(partial.error).toMatch(/AWS_SECRET_ACCESS_KEY is not set|partial credentials/);
    expect(fake.log).toHaveLength(0);

    user.sandbox.env.AWS_SECRET_ACCESS_KEY = 'a-wrong-secret-never-printed';
    const refused = await list();
    expect(refused.error).toMatch(/AuthFailure.*AWS was not able to validate the provided access credentials/);
    expect(refused.output).not.toContain('a-wrong-secret-never-printed');
    expect(fake.log.map((e) => [e.op, e.status])).toEqual([['DescribeInstances', 401]]);
  });

  it('a create killed right after RunInstances is deleted by a new process, from its state record and the tags', { timeout: 120_000 }, async () => {
    fake = new Ec2Fake({ boot: false, credentials: [{ accessKeyId: EC2_CLI_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: EC2_CLI_ENV.AWS_SECRET_ACCESS_KEY }], terminateAfterPolls: 2 });
    user = await cli.start(fake, ec2Provider.description, EC2_CLI_ENV);
    await killedCreateDeletedByNewProcess(user, fake, 'RunInstances', 'ec2-killed');
  });
});
