/**
 * The EC2 SDK clients of one provider: one per region, all with the same credentials, endpoint
 * override and per-call timeout, and every call's failure mapped by {@link toProviderError}.
 *
 * Retries: the SDK's own are off (`maxAttempts: 1`). inletsctl's shared poller owns waiting and
 * backoff (src/core/poller.ts), and a provider never waits; a repeated RunInstances is made safe
 * by its ClientToken instead.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { UsageError } from '../../src/errors.js';
import type { ProviderContext } from '../../src/core/provider.js';
import { toProviderError } from './ec2-errors.js';
import { AWS_ENDPOINT_URL_EC2_ENV, EC2_API_URL_ENV } from './index.js';

/** Environment variable: per-call timeout in milliseconds (default 30000); shared by all providers. */
const API_TIMEOUT_ENV = 'INLETSCTL_API_TIMEOUT_MS';
const DEFAULT_TIMEOUT_MS = 30_000;
/** The SDK warns on Node 20 about its releases after January 2027; this package pins one that runs on Node 20. */
const SDK_NODE_WARNING_ENV = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** Static keys, or the AWS default chain (optionally for one profile). */
export type CredentialSource =
  | { kind: 'static'; accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  | { kind: 'chain'; profile?: string };

/**
 * Decides where credentials come from.
 * - `--secret-key` (or its file) given: static keys; the key id from `--access-token` or
 *   $AWS_ACCESS_KEY_ID, and `--session-token` for temporary credentials.
 * - Only a key id from $AWS_ACCESS_KEY_ID: the default chain reads the environment itself (with
 *   $AWS_SESSION_TOKEN); but when $AWS_SECRET_ACCESS_KEY is missing and no profile is named, that
 *   is an error at once, as the AWS CLI treats partial credentials (and no instance-metadata probe).
 * - Nothing: the default chain (environment, profiles and SSO, container and instance roles).
 * @throws UsageError `CREDENTIALS` for a combination that cannot work.
 */
export function credentialSource(ctx: ProviderContext, env: NodeJS.ProcessEnv = process.env): CredentialSource {
  const keyId = ctx.credentials['access-token'];
  const secret = ctx.credentials['secret-key'];
  const session = ctx.credentials['session-token'];
  const profile = typeof ctx.options.profile === 'string' && ctx.options.profile ? ctx.options.profile : undefined;
  if (secret !== undefined) {
    if (keyId === undefined) throw new UsageError('--secret-key was given without --access-token (the access key id)', 'CREDENTIALS');
    return { kind: 'static', accessKeyId: keyId, secretAccessKey: secret, sessionToken: session };
  }
  if (session !== undefined) throw new UsageError('--session-token needs --access-token and --secret-key as well', 'CREDENTIALS');
  if (keyId === undefined) return { kind: 'chain', profile };
  if (keyId !== env.AWS_ACCESS_KEY_ID) {
    throw new UsageError('--access-token (the access key id) needs its secret: --secret-key or --secret-key-file', 'CREDENTIALS');
  }
  if (!env.AWS_SECRET_ACCESS_KEY && !profile) {
    throw new UsageError('$AWS_ACCESS_KEY_ID is set but $AWS_SECRET_ACCESS_KEY is not (partial credentials)', 'CREDENTIALS');
  }
  return { kind: 'chain', profile };
}

/** The endpoint override: `--api-url`, else $AWS_EC2_API_URL, else $AWS_ENDPOINT_URL_EC2; none means AWS's own. */
export function endpointOverride(ctx: ProviderContext, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = ctx.apiUrl || env[EC2_API_URL_ENV] || env[AWS_ENDPOINT_URL_EC2_ENV];
  return chosen ? chosen.replace(/\/+$/, '') : undefined;
}

export class Ec2Api {
  private readonly clients = new Map<string, EC2Client>();
  readonly timeoutMs: number;

  constructor(
    private readonly credentials: CredentialSource,
    private readonly endpoint: string | undefined,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const fromEnv = Number(env[API_TIMEOUT_ENV]);
    this.timeoutMs = Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_TIMEOUT_MS;
  }

  /**
   * Runs one SDK call in `region`; `action` is EC2's action name, for messages.
   * @throws ProviderError (see {@link toProviderError})
   */
  async call<T>(region: string, action: string, send: (client: EC2Client, abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await send(this.client(region), AbortSignal.timeout(this.timeoutMs));
    } catch (err) {
      throw toProviderError(err, action, this.timeoutMs);
    }
  }

  private client(region: string): EC2Client {
    let client = this.clients.get(region);
    if (client) return client;
    process.env[SDK_NODE_WARNING_ENV] ??= 'true';
    const c = this.credentials;
    client = new EC2Client({
      region,
      ...(this.endpoint ? { endpoint: this.endpoint } : {}),
      ...(c.kind === 'static'
        ? { credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken } }
        : c.profile
          ? { profile: c.profile }
          : {}),
      maxAttempts: 1,
      requestHandler: { connectionTimeout: this.timeoutMs, requestTimeout: this.timeoutMs, throwOnRequestTimeout: true },
    });
    this.clients.set(region, client);
    return client;
  }
}
