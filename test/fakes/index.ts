/**
 * The registry of fake clouds: one entry per provider that has a fake. The provider contract suite
 * loops over it, so a new provider is covered by adding its fake here.
 */
import type { FakeCloudServer } from './fake-cloud-server.js';
import type { BootFunction } from './instance-booter.js';
import { gceFakeEntry } from './gce-entry.js';
import { azureFakeEntry } from './azure-entry.js';
import { ec2FakeEntry } from './ec2-entry.js';
import { civoFakeEntry } from './civo-entry.js';
import { vultrFakeEntry } from './vultr-entry.js';
import { openStackFakeEntry } from './openstack-entry.js';
import { linodeFakeEntry } from './linode-entry.js';
import { exoscaleFakeEntry } from './exoscale-entry.js';
import { scalewayFakeEntry } from './scaleway-entry.js';

export interface FakeStartOptions {
  /** Observations before an instance turns active. */
  activeAfterPolls?: number;
  /** Largest page the fake serves (to exercise pagination). */
  maxPerPage?: number;
  /** Resources that exist before the test, not made by inletsctl (they must survive it). */
  foreign?: number;
  /** How instances boot; false for API-only fakes. Default: the shared booter. */
  boot?: BootFunction | false;
  /** When set, only this bearer token is accepted. */
  acceptToken?: string;
}

export interface FakeEntry {
  /** The provider's name, as in providers/index.ts. */
  provider: string;
  /**
   * Every API operation the provider uses in create, delete and list, as the fake names them: the
   * fault matrix fails each once. The contract suite checks the provider uses no other.
   */
  operations: string[];
  /** Operations that make a resource: the matrix also loses their answers after they took effect. */
  creatingOps: string[];
  /** The operation that starts the VM (the first call of create). */
  createOp: string;
  /** The operation create's waiting polls. */
  statusOp: string;
  /**
   * Environment the CLI needs besides the token, for clouds where a token alone is not enough
   * (GCE: the project id, which an access token does not name). Never a secret.
   */
  cliEnv?: Record<string, string>;
  /** Starts a fake; its `url` is what the provider's API base URL override takes. */
  start(options?: FakeStartOptions): Promise<FakeCloudServer>;
  /**
   * Optional (the contract suite's v2 cases need it): puts a running instance into `fake` directly,
   * as another inletsctl would have made it: carrying the shared mark and the name mark, plus the
   * tunnel mark when `host.tunnelId` is given (without it: a host of a version before tunnel ids).
   * Nothing boots on it. Where the cloud wants unique instance names and `host.name` is taken,
   * the instance gets another name and keeps `host.name` in its name mark.
   * @returns the instance id, as the provider reports it in `Host.id`
   */
  seedHost?(fake: FakeCloudServer, host: { name: string; tunnelId?: string }): string | Promise<string>;
}

export const fakes: FakeEntry[] = [
  {
    provider: 'digitalocean',
    operations: ['droplets_create', 'firewalls_create', 'droplets_get', 'droplets_list', 'droplets_destroy', 'firewalls_list', 'firewalls_delete', 'tags_list', 'tags_delete'],
    creatingOps: ['droplets_create', 'firewalls_create'],
    createOp: 'droplets_create',
    statusOp: 'droplets_get',
    seedHost: (fake, host) => (fake as import('./digitalocean-fake.js').DigitalOceanFake).seedDroplet(host),
    async start(o = {}) {
      const { DigitalOceanFake } = await import('./digitalocean-fake.js');
      const fake = new DigitalOceanFake({ activeAfterPolls: o.activeAfterPolls, maxPerPage: o.maxPerPage, foreignDroplets: o.foreign, boot: o.boot, acceptToken: o.acceptToken });
      await fake.start();
      return fake;
    },
  },
  {
    provider: 'hetzner',
    operations: ['servers.create', 'firewalls.create', 'servers.get', 'actions.get', 'servers.list', 'servers.delete', 'firewalls.list', 'firewalls.delete'],
    creatingOps: ['servers.create', 'firewalls.create'],
    createOp: 'servers.create',
    statusOp: 'servers.get',
    seedHost: (fake, host) => (fake as import('./hetzner-fake.js').HetznerFake).seedServer(host),
    async start(o = {}) {
      const { HetznerFake } = await import('./hetzner-fake.js');
      const fake = new HetznerFake({ activeAfterPolls: o.activeAfterPolls, maxPerPage: o.maxPerPage, foreignServers: o.foreign, boot: o.boot, acceptToken: o.acceptToken });
      await fake.start();
      return fake;
    },
  },
  gceFakeEntry,
  azureFakeEntry,
  ec2FakeEntry,
  civoFakeEntry,
  {
    provider: 'upcloud',
    operations: ['storages.templates', 'servers.create', 'firewall_rules.replace', 'servers.get', 'firewall_rules.list', 'servers.list', 'servers.stop', 'servers.delete'],
    creatingOps: ['servers.create', 'firewall_rules.replace'],
    createOp: 'servers.create',
    statusOp: 'servers.get',
    seedHost: (fake, host) => (fake as import('./upcloud-fake.js').UpcloudFake).seedServer(host),
    async start(o = {}) {
      const { UpcloudFake } = await import('./upcloud-fake.js');
      const fake = new UpcloudFake({ activeAfterPolls: o.activeAfterPolls, maxPerPage: o.maxPerPage, foreignServers: o.foreign, boot: o.boot, acceptToken: o.acceptToken });
      await fake.start();
      return fake;
    },
  },
  vultrFakeEntry,
  openStackFakeEntry('openstack', 'RegionOne'),
  openStackFakeEntry('ovh', 'GRA11'),
  linodeFakeEntry,
  exoscaleFakeEntry,
  scalewayFakeEntry,
];

/** The fake for a provider, or undefined. */
export function fakeFor(provider: string): FakeEntry | undefined {
  return fakes.find((f) => f.provider === provider);
}

/** The holdings that must be zero once everything a test created is deleted. */
export function leftovers(fake: FakeCloudServer): Record<string, number> {
  return Object.fromEntries(Object.entries(fake.holdings()).filter(([, n]) => n !== 0));
}
