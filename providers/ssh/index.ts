/**
 * ssh: a server the user already has becomes the exit node, over SSH (node-ssh). Nothing is
 * bought, so region, plan and image are placeholders and never asked for. This file is the cheap
 * description; the implementation loads lazily.
 */
import type { ProviderModule } from '../../src/core/provider.js';

export const sshProvider: ProviderModule = {
  description: {
    name: 'ssh',
    title: 'A server you have, over SSH',
    defaults: {
      region: 'existing',
      plan: 'existing',
      image: 'existing',
      reason: 'no machine is created: the boot script is installed on --host over SSH (Debian or Ubuntu with systemd and sudo)',
      monthlyUsd: 0,
    },
    regions: ['existing'],
    credentials: {
      // The SSH key file or agent is the credential; no API secret.
      flags: [],
      env: [],
      howTo: 'give --ssh-key FILE or load the key into your SSH agent ($SSH_AUTH_SOCK); the user needs root or password-less sudo',
      required: false,
    },
    extraFlags: {
      host: { describe: 'Address or name of the server to install the exit node on', type: 'string', env: 'INLETSCTL_SSH_HOST', requiredToCreate: true },
      'ssh-user': { describe: 'SSH user (root, or a user with password-less sudo)', type: 'string', default: 'root' },
      'ssh-port': { describe: 'SSH port', type: 'number', default: 22 },
      'ssh-key': { describe: 'Private key file (default: the SSH agent at $SSH_AUTH_SOCK)', type: 'string' },
      'ssh-host-key': { describe: "Pinned host key, as OpenSSH prints it: SHA256:<base64> (ssh-keygen -lf the host's key)", type: 'string' },
      'ssh-known-hosts': { describe: 'known_hosts file to check the host key against (default ~/.ssh/known_hosts)', type: 'string' },
      'ssh-accept-new-host-key': { describe: 'Trust a host key seen for the first time (not in known_hosts, no pin); prints its fingerprint', type: 'boolean', default: false },
      'ssh-timeout': { describe: 'Limit for connecting and for each command, in seconds', type: 'number', default: 20 },
    },
    userData: {
      // Sent over SSH, not through a cloud API: the limit is ours (1 MiB).
      limitBytes: 1024 * 1024,
      format: 'script',
      binary: false,
    },
    firewall: 'never',
    placement: false,
  },
  async load() {
    const { createSshProvider } = await import('./ssh-provider.js');
    return createSshProvider;
  },
};
