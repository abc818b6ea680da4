/**
 * What inletsctl asks Compute Engine to make for one tunnel, and how it names and marks it so
 * that delete finds everything by the tunnel id alone (providers/shared/marks.ts):
 * - a static external address `inletsctl-<tunnel id>`, labelled with the marks, reserved first;
 * - an instance named after the tunnel, labelled with the marks (and `inletsctl=true`, the label
 *   versions before v2 wrote and `list` filters on), with that address as its external IP and the
 *   network tag `inletsctl-<tunnel id>`; its boot disk is labelled too and deleted with it;
 * - a firewall rule `inletsctl-<tunnel id>` opening exactly the request's openPorts to that tag.
 *   Firewall rules take no labels: the name and the description (`inletsctl-tunnel=<id>`) mark it.
 *
 * Boot configuration: Debian's GCE images (project debian-cloud) are built without cloud-init;
 * they carry google-guest-agent, which runs the `startup-script` metadata value as root at every
 * boot. So the user-data goes there, in the rendered `#!/bin/bash` form (it is idempotent).
 * Debian's image recipe, GCE class: https://salsa.debian.org/cloud-team/debian-cloud-images/-/blob/master/config_space/bookworm/package_config/GCE
 * (google-guest-agent, no cloud-init; the EC2 class is the one with cloud-init);
 * startup scripts: https://cloud.google.com/compute/docs/instances/startup-scripts/linux
 */
import type { CreateRequest } from '../../src/core/provider.js';
import { LABEL, labelsFor, readLabels, type Marks } from '../shared/marks.js';

/** The label versions before v2 wrote on everything, with the value "true"; `list` filters on it. */
export const SHARED_LABEL = 'inletsctl';
/** The label holding the tunnel's name. */
export const NAME_LABEL = LABEL.name;
/** The label holding the tunnel id: the identity delete and status go by. */
export const TUNNEL_LABEL = LABEL.tunnel;
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

type Marked = Pick<CreateRequest, 'name' | 'tunnelId' | 'expiresAt'>;

/**
 * Names of a tunnel's resources. The instance carries the tunnel's name (what people see; the core
 * refuses a name in use); the rule, the address and the tag carry the tunnel id, so two tunnels of
 * one name (two state files, two zones) never share or meet one of them.
 */
export function resourceNames(req: Pick<CreateRequest, 'name' | 'tunnelId'>): TunnelResourceNames {
  const own = `inletsctl-${req.tunnelId}`;
  return { instance: req.name, firewall: own, address: own, tag: own };
}

/** The labels of every labelled resource of the tunnel: the shared marks plus the pre-v2 label. */
export function tunnelLabels(req: Marked): Record<string, string> {
  return { [SHARED_LABEL]: 'true', ...labelsFor(req) };
}

/** What a resource's labels say; `ours` with either the v2 shared mark or the pre-v2 label. */
export function readMarks(labels: Record<string, string> | null | undefined): Marks {
  const marks = readLabels(labels);
  return { ...marks, ours: marks.ours || labels?.[SHARED_LABEL] === 'true' };
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

/** The Instance to insert (schema `Instance` of compute v1), its external IP the reserved `natIP`. */
export function instanceBody(req: CreateRequest, zone: string, natIP: string): Record<string, unknown> {
  const names = resourceNames(req);
  const labels = tunnelLabels(req);
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
    networkInterfaces: [{ network: NETWORK, accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT', networkTier: 'PREMIUM', natIP }] }],
  };
}

/** The mark in a firewall rule's description (rules take no labels). */
function firewallMark(tunnelId: string): string {
  return `${TUNNEL_LABEL}=${tunnelId}`;
}

/** The Firewall rule to insert: TCP to exactly the request's openPorts, from anywhere, to this tunnel's tag. */
export function firewallBody(req: CreateRequest): Record<string, unknown> {
  const names = resourceNames(req);
  return {
    name: names.firewall,
    description: `${DESCRIPTION_MARK} ${req.name} (${firewallMark(req.tunnelId)}): control and data ports`,
    network: NETWORK,
    direction: 'INGRESS',
    priority: 1000,
    sourceRanges: ['0.0.0.0/0'],
    targetTags: [names.tag],
    allowed: [{ IPProtocol: 'tcp', ports: req.openPorts.map(String) }],
  };
}

/** The Address to reserve before the instance: Compute Engine picks the IP. */
export function addressBody(req: Marked): Record<string, unknown> {
  return {
    name: resourceNames({ name: req.name, tunnelId: req.tunnelId }).address,
    description: `${DESCRIPTION_MARK} ${req.name}: the exit node's static IP`,
    addressType: 'EXTERNAL',
    networkTier: 'PREMIUM',
    labels: tunnelLabels(req),
  };
}

/** Whether a firewall rule was made by inletsctl for tunnel `tunnelId` (by its description and target tag). */
export function isOurFirewall(fw: { description?: string | null; targetTags?: string[] | null }, tunnelId: string): boolean {
  const d = fw.description ?? '';
  return d.startsWith(`${DESCRIPTION_MARK} `) && d.includes(`(${firewallMark(tunnelId)})`) && (fw.targetTags ?? []).includes(`inletsctl-${tunnelId}`);
}
