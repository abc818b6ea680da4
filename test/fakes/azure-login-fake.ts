/**
 * A fake Microsoft Entra ID token endpoint for one service principal, over https on 127.0.0.1, so
 * the identity library's ClientSecretCredential (MSAL) gets its token without leaving loopback.
 * Point it here with `authorityHost` / $AZURE_AUTHORITY_HOST (instance discovery turned off).
 *
 * Serves what MSAL fetches for the client-credentials flow, per Microsoft's identity platform
 * documentation: `GET /{tenant}/v2.0/.well-known/openid-configuration` and
 * `POST /{tenant}/oauth2/v2.0/token` (form: client_id, client_secret, scope, grant_type). A wrong
 * secret gets AADSTS7000215 as invalid_client, like the real service.
 */
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { TestCa } from './azure-test-ca.js';

export interface LoginFakeOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** The access token to issue (the ARM fake accepts only this one). */
  accessToken: string;
}

export class AzureLoginFake {
  /** Requests that do not follow the documented flow. Tests require none. */
  readonly mismatches: string[] = [];
  /** Tokens issued, and refused attempts. */
  issued = 0;
  refused = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private origin?: string;

  constructor(
    private readonly ca: TestCa,
    private readonly options: LoginFakeOptions,
  ) {}

  /** The authority host to configure (no tenant, no trailing slash). */
  get url(): string {
    if (!this.origin) throw new Error('login fake not started');
    return this.origin;
  }

  async start(): Promise<string> {
    this.server = createServer({ cert: this.ca.certPem, key: this.ca.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const reply = this.handle(req.method ?? 'GET', new URL(req.url ?? '/', 'https://x'), Buffer.concat(chunks).toString('utf8'));
        res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(reply.body));
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    this.origin = `https://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this.origin;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(method: string, url: URL, body: string): { status: number; body: unknown } {
    const { tenantId } = this.options;
    const base = `${this.url}/${tenantId}`;
    if (method === 'GET' && url.pathname === `/${tenantId}/v2.0/.well-known/openid-configuration`) {
      return {
        status: 200,
        body: {
          issuer: `${base}/v2.0`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          token_endpoint: `${base}/oauth2/v2.0/token`,
          end_session_endpoint: `${base}/oauth2/v2.0/logout`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
          response_types_supported: ['code', 'id_token', 'token'],
          subject_types_supported: ['pairwise'],
          id_token_signing_alg_values_supported: ['RS256'],
          token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        },
      };
    }
    if (method === 'POST' && url.pathname === `/${tenantId}/oauth2/v2.0/token`) {
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'client_credentials') this.mismatches.push(`token request: grant_type ${form.get('grant_type')}, expected client_credentials`);
      const scope = form.get('scope') ?? '';
      if (!/^https:\/\/[^ ]+\/\.default$/.test(scope)) this.mismatches.push(`token request: scope "${scope}" is not a resource's /.default scope`);
      if (form.get('client_id') !== this.options.clientId || form.get('client_secret') !== this.options.clientSecret) {
        this.refused++;
        return {
          status: 401,
          body: {
            error: 'invalid_client',
            error_description: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${form.get('client_id')}'.`,
            error_codes: [7000215],
          },
        };
      }
      this.issued++;
      return { status: 200, body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: this.options.accessToken } };
    }
    this.mismatches.push(`unexpected ${method} ${url.pathname}`);
    return { status: 404, body: { error: 'invalid_request', error_description: `AADSTS90002: no such endpoint ${url.pathname}` } };
  }
}
