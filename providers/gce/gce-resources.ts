/**
 * What inletsctl asks Compute Engine to make for one tunnel, and how it names and marks it so
 * that delete finds everything by the tunnel's name alone:
 * - an instance named after the tunnel, with labels `inletsctl=true` and `inletsctl-name=<name>`
 *   and the network tag `inletsctl-<name>`, its boot disk deleted with it;
 * - a firewall rule `inletsctl-<name>` (firewall rules take no labels: the name and description
 *   mark it) opening the control port and the data ports to that tag only;
 * - a static external address `inletsctl-<name>` (labelled like the instance): the instance's
 *   ephemeral IP, promoted once the instance runs, so the tunnel's address never changes.
 *
 * Boot configuration: Debian's GCE images (project debian-cloud) are built without cloud-init;
 * they carry google-guest-agent, which runs the `startup-script` metadata value as root at every
 * boot. So the user-data goes there, in the rendered `#!/bin/bash` form (it is idempotent).
 * Debian's image recipe, GCE class: https://salsa.debian.org/cloud-team/debian-cloud-images/-/blob/master/config_space/bookworm/package_config/GCE
 * (google-guest-agent, no cloud-init; the EC2 class is the one with cloud-init);
 * startup scripts: https://cloud.google.com/compute/docs/instances/startup-scripts/linux
 */
import { createHash } from 'node:crypto';
import type { CreateRequest } from '../../src/core/provider.js';

/** The label every resource inletsctl makes carries; `list` filters on it. */
export const SHARED_LABEL = 'inletsctl';
/** The label holding the tunnel's name. */
export const NAME_LABEL = 'inletsctl-name';
/** Marks firewall rules (which have no labels) as ours, at the start of their description. */
export const DESCRIPTION_MARK = 'inletsctl tunnel';
/** The metadata key google-guest-agent runs at boot. */
export const STARTUP_SCRIPT_KEY = 'startup-script';
const BOOT_DISK_GB = 10; // the smallest a Debian image allows; free-tier standard disk covers it
const NETWORK = 'global/networks/default';

export interface TunnelResourceNames {
  instance: string;
  firewall: string;
  address: string;
  /** Network tag on the instance; the firewall rule targets it. */
  tag: string;
}

/**
 * Names of a tunnel's resources. Resource names are at most 63 characters: a long tunnel name is
 * shortened and given a hash of the whole, so the names stay unique and derive from the name alone.
 */
export function resourceNames(name: string): TunnelResourceNames {
  const prefixed = `inletsctl-${name}`;
  const own = prefixed.length <= 63 ? prefixed : `${prefixed.slice(0, 54).replace(/-+$/, '')}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
  return { instance: name, firewall: own, address: own, tag: own };
}

export function labelsFor(name: string): Record<string, string> {
  return { [SHARED_LABEL]: 'true', [NAME_LABEL]: name };
}

/** The zone to use: `--zone`, else zone "b" of the region (present in every region). */
export function zoneFor(req: Pick<CreateRequest, 'zone' | 'region'>): string {
  return req.zone ?? `${req.region}-b`;
}

/** `us-central1-b` → `us-central1`. */
export function regionOfZone(zone: string): string {
  return zone.replace(/-[a-z]$/, '');
}

/** The last path segment of a URL or partial resource path (`.../zones/us-central1-b` → `us-central1-b`). */
export function lastSegment(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  const parts = url.split('/');
  return parts[parts.length - 1] || undefined;
}

/**
 * The image as the API takes it: `project/family` (the description's short form) becomes the
 * family's URL, so the newest image of the family is used; anything else is passed unchanged.
 */
export function sourceImage(image: string): string {
  const m = /^([a-z][-a-z0-9]*)\/([a-z][-a-z0-9]*)$/.exec(image);
  return m ? `projects/${m[1]}/global/images/family/${m[2]}` : image;
}

/** The Instance to insert (schema `Instance` of compute v1). */
export function instanceBody(req: CreateRequest, zone: string): Record<string, unknown> {
  const names = resourceNames(req.name);
  const labels = labelsFor(req.name);
  return {
    name: names.instance,
    description: `${DESCRIPTION_MARK} ${req.name}: inlets exit node`,
    machineType: `zones/${zone}/machineTypes/${req.plan}`,
    labels,
    tags: { items: [names.tag] },
    metadata: { items: [{ key: STARTUP_SCRIPT_KEY, value: req.userData.toString('utf8') }] },
    disks: [
      {
        boot: true,
        autoDelete: true, // no orphaned disk: it goes with the instance
        type: 'PERSISTENT',
        initializeParams: { sourceImage: sourceImage(req.image), diskSizeGb: BOOT_DISK_GB, diskType: `zones/${zone}/diskTypes/pd-standard`, labels },
      },
    ],
    // An ephemeral external IP at first; status() promotes it to the static address.
    networkInterfaces: [{ network: NETWORK, accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT', networkTier: 'PREMIUM' }] }],
  };
}

/** The Firewall rule to insert: TCP to the control port and the data ports, from anywhere, to this tunnel's tag. */
export function firewallBody(req: CreateRequest): Record<string, unknown> {
  const names = resourceNames(req.name);
  const ports = [req.controlPort, ...req.ports.filter((p) => p !== req.controlPort)];
  return {
    name: names.firewall,
    description: `${DESCRIPTION_MARK} ${req.name}: control and data ports`,
    network: NETWORK,
    direction: 'INGRESS',
    priority: 1000,
    sourceRanges: ['0.0.0.0/0'],
    targetTags: [names.tag],
    allowed: [{ IPProtocol: 'tcp', ports: ports.map(String) }],
  };
}

/** The Address that promotes the instance's ephemeral IP to a static one. */
export function addressBody(name: string, ip: string): Record<string, unknown> {
  return {
    name: resourceNames(name).address,
    description: `${DESCRIPTION_MARK} ${name}: the exit node's static IP`,
    address: ip,
    addressType: 'EXTERNAL',
    networkTier: 'PREMIUM',
    labels: labelsFor(name),
  };
}

/** Whether a firewall rule was made by inletsctl for this tunnel (by its description and target tag). */
export function isOurFirewall(fw: { description?: string | null; targetTags?: string[] | null }, name: string): boolean {
  return (fw.description ?? '').startsWith(`${DESCRIPTION_MARK} ${name}:`) && (fw.targetTags ?? []).includes(resourceNames(name).tag);
}
