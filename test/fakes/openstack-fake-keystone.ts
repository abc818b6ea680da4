/**
 * The Keystone v3 half of the OpenStack fake: token issue (POST /v3/auth/tokens) with password or
 * application-credential identities, answered 201 with X-Subject-Token and a service catalog whose
 * compute and network endpoints point back at the fake. Keystone has no OpenAPI description in
 * ../shared/cloud-specs/, so requests are checked against the api-ref by hand:
 * https://docs.openstack.org/api-ref/identity/v3/#password-authentication-with-scoped-authorization
 */
import { randomBytes } from 'node:crypto';
import type { FakeReply } from './fake-cloud-server.js';

export interface CatalogUrls {
  compute: string;
  network: string;
  identity: string;
}

/** Problems with a token-issue body (the api-ref's shape), or none. */
export function checkTokenRequest(body: unknown): string[] {
  const auth = (body as { auth?: Record<string, unknown> } | undefined)?.auth;
  if (!auth || typeof auth !== 'object') return ['body has no "auth" object'];
  const identity = auth.identity as { methods?: unknown; password?: { user?: Record<string, unknown> }; application_credential?: Record<string, unknown> } | undefined;
  if (!identity || !Array.isArray(identity.methods) || identity.methods.length !== 1) return ['auth.identity.methods must list one method'];
  const method = identity.methods[0];
  if (method === 'password') {
    const user = identity.password?.user;
    if (!user || typeof user.password !== 'string') return ['auth.identity.password.user.password missing'];
    if (typeof user.id !== 'string' && !(typeof user.name === 'string' && typeof (user.domain as { name?: unknown } | undefined)?.name === 'string')) {
      return ['a user by name needs domain.name (or give user.id)'];
    }
    const project = (auth.scope as { project?: Record<string, unknown> } | undefined)?.project;
    if (!project) return ['password authentication without a project scope gives an unscoped token (no catalog)'];
    if (typeof project.id !== 'string' && !(typeof project.name === 'string' && typeof (project.domain as { name?: unknown } | undefined)?.name === 'string')) {
      return ['a project by name needs domain.name (or give project.id)'];
    }
    return [];
  }
  if (method === 'application_credential') {
    const ac = identity.application_credential;
    if (!ac || typeof ac.secret !== 'string') return ['auth.identity.application_credential.secret missing'];
    if (typeof ac.id !== 'string' && typeof ac.name !== 'string') return ['application_credential needs id, or name with user'];
    if (auth.scope !== undefined) return ['an application credential takes no scope'];
    return [];
  }
  return [`unknown method ${String(method)}`];
}

/** The secret of a token request (password or application credential secret). */
export function secretOf(body: unknown): string | undefined {
  const identity = (body as { auth?: { identity?: { password?: { user?: { password?: string } }; application_credential?: { secret?: string } } } })?.auth?.identity;
  return identity?.password?.user?.password ?? identity?.application_credential?.secret;
}

/** A 201 token answer with a catalog for `region`. */
export function tokenReply(urls: CatalogUrls, region: string): { token: string; reply: FakeReply } {
  const token = `gAAAA${randomBytes(24).toString('base64url')}`;
  const now = new Date();
  const endpoint = (url: string, i: string) => ({ id: randomBytes(16).toString('hex'), interface: i, region_id: region, region, url });
  const service = (type: string, name: string, url: string) => ({
    id: randomBytes(16).toString('hex'), type, name,
    endpoints: [endpoint(url, 'public'), endpoint(url.replace('127.0.0.1', '10.0.0.1'), 'internal')],
  });
  return {
    token,
    reply: {
      status: 201,
      headers: { 'x-subject-token': token },
      body: {
        token: {
          methods: ['password'],
          expires_at: new Date(now.getTime() + 86_400_000).toISOString(),
          issued_at: now.toISOString(),
          user: { id: 'u-fake', name: 'fake-user', domain: { id: 'default', name: 'Default' }, password_expires_at: null },
          project: { id: 'p-fake', name: 'fake-project', domain: { id: 'default', name: 'Default' } },
          roles: [{ id: 'r1', name: 'member' }],
          catalog: [service('identity', 'keystone', urls.identity), service('compute', 'nova', urls.compute), service('network', 'neutron', urls.network)],
        },
      },
    },
  };
}
