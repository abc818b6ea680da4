/**
 * The flags and credential spec shared by every OpenStack-based provider (`openstack`, `ovh`):
 * the standard `OS_*` names, so an openrc file or clouds.yaml works as it does for the
 * `openstack` CLI (https://docs.openstack.org/python-openstackclient/latest/cli/man/openstack.html).
 */
import type { CredentialSpec, ExtraFlag } from '../../src/core/provider.js';

/** Secrets: a password or an application credential secret (files allowed, 0600 advised). */
export function openStackCredentials(howTo: string): CredentialSpec {
  return {
    flags: ['password', 'password-file', 'application-credential-secret', 'application-credential-secret-file'],
    env: ['OS_PASSWORD'],
    howTo,
    // Either secret will do (a password with a user name, or an application credential), and
    // clouds.yaml or the OS_* variables may hold one: without any, exit 2 before any work.
    required: true,
    sufficient: ['password', 'application-credential-secret'],
    // Where openstacksdk finds the rest (https://docs.openstack.org/openstacksdk/latest/user/config/configuration.html).
    alternatives: {
      env: ['OS_APPLICATION_CREDENTIAL_SECRET', 'OS_CLOUD', 'OS_CLIENT_CONFIG_FILE'],
      files: ['clouds.yaml', '~/.config/openstack/clouds.yaml', '/etc/openstack/clouds.yaml'],
    },
  };
}

/**
 * Non-secret settings. `network` is where the server's public address comes from: a public
 * (provider) network such as OVHcloud's Ext-Net gives one directly; with `floating-ip-network`
 * the server joins `network` (private) and a floating IP from that network is attached.
 */
export function openStackFlags(defaults: { authUrl?: string; network: string }): Record<string, ExtraFlag> {
  return {
    'auth-url': { describe: 'Keystone v3 URL', type: 'string', env: 'OS_AUTH_URL', ...(defaults.authUrl ? { default: defaults.authUrl } : {}) },
    'os-cloud': { describe: 'Entry of clouds.yaml to read settings from', type: 'string', env: 'OS_CLOUD' },
    username: { describe: 'OpenStack user name', type: 'string', env: 'OS_USERNAME' },
    'user-domain-name': { describe: 'Domain of the user', type: 'string', env: 'OS_USER_DOMAIN_NAME' },
    'project-name': { describe: 'Project (tenant) name; or --project-id / $OS_PROJECT_ID', type: 'string', env: 'OS_PROJECT_NAME' },
    'project-id': { describe: 'Project (tenant) id, instead of --project-name', type: 'string', env: 'OS_PROJECT_ID' },
    'project-domain-name': { describe: 'Domain of the project', type: 'string', env: 'OS_PROJECT_DOMAIN_NAME' },
    'application-credential-id': { describe: 'Application credential id (with --application-credential-secret)', type: 'string', env: 'OS_APPLICATION_CREDENTIAL_ID' },
    'application-credential-name': { describe: 'Application credential name (with --username)', type: 'string', env: 'OS_APPLICATION_CREDENTIAL_NAME' },
    interface: { describe: 'Catalog endpoint interface', type: 'string', env: 'OS_INTERFACE', default: 'public' },
    network: { describe: 'Network the server joins (name or id)', type: 'string', default: defaults.network },
    'floating-ip-network': { describe: 'External network to take a floating IP from (none: the server network gives the address)', type: 'string' },
  };
}
