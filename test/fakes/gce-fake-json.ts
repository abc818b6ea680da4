/**
 * The GCE fake's records and how they render as Compute Engine v1 JSON (shaped by the discovery
 * document's schemas: int64 as strings, URLs for references), plus the subset of the list
 * `filter` language the fake understands: parenthesised `field = value`, `field != value` and
 * `field:*` terms joined by spaces or AND.
 */

/** Compute Engine's resource URLs start here (selfLink, zone, machineType…). */
export const API_ROOT = 'https://www.googleapis.com/compute/v1';

export interface OperationRecord {
  id: string;
  name: string;
  scope: { kind: 'zone'; zone: string } | { kind: 'region'; region: string } | { kind: 'global' };
  operationType: string;
  targetLink: string;
  targetId: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  observed: number;
  insertTime: string;
  endTime?: string;
  error?: { code: string; message: string; httpStatus: number; httpMessage: string };
  /** Runs once, when the operation turns DONE (the resource change it stands for). */
  onDone?: () => void;
}

export interface InstanceRecord {
  id: string;
  name: string;
  zone: string;
  status: 'PROVISIONING' | 'STAGING' | 'RUNNING' | 'STOPPING';
  description?: string;
  machineType: string;
  labels: Record<string, string>;
  tags: string[];
  metadata: Array<{ key: string; value: string }>;
  natIP?: string;
  /** The static address the instance was given as natIP at insert, if any. */
  staticIP?: string;
  networkIP: string;
  networkTier: string;
  diskName: string;
  diskAutoDelete: boolean;
  sourceImage: string;
  created: string;
  observed: number;
  foreign: boolean;
  op?: OperationRecord;
}

export interface FirewallRecord {
  id: string;
  name: string;
  description?: string;
  network: string;
  direction: string;
  priority: number;
  sourceRanges: string[];
  targetTags: string[];
  allowed: Array<{ IPProtocol: string; ports?: string[] }>;
  created: string;
  foreign: boolean;
}

export interface AddressRecord {
  id: string;
  name: string;
  region: string;
  address: string;
  status: 'RESERVING' | 'RESERVED' | 'IN_USE';
  description?: string;
  labels: Record<string, string>;
  networkTier: string;
  users: string[];
  created: string;
  observed: number;
  foreign: boolean;
  op?: OperationRecord;
}

export interface DiskRecord {
  name: string;
  zone: string;
  sizeGb: number;
  foreign: boolean;
}

/** RFC 3339 with a zone offset, as Compute Engine writes timestamps. */
export function timestamp(at = new Date()): string {
  return at.toISOString().replace('Z', '-00:00');
}

/** A fingerprint-looking base64 string. */
export function fingerprint(seed: string): string {
  return Buffer.from(seed.padEnd(8, '=').slice(0, 8)).toString('base64');
}

export function instanceJson(project: string, i: InstanceRecord): Record<string, unknown> {
  const zoneUrl = `${API_ROOT}/projects/${project}/zones/${i.zone}`;
  const region = i.zone.replace(/-[a-z]$/, '');
  return {
    kind: 'compute#instance',
    id: i.id,
    creationTimestamp: i.created,
    name: i.name,
    ...(i.description !== undefined ? { description: i.description } : {}),
    tags: { items: i.tags, fingerprint: fingerprint(i.tags.join(',')) },
    machineType: `${zoneUrl}/machineTypes/${i.machineType}`,
    status: i.status,
    zone: zoneUrl,
    canIpForward: false,
    networkInterfaces: [
      {
        kind: 'compute#networkInterface',
        network: `${API_ROOT}/projects/${project}/global/networks/default`,
        subnetwork: `${API_ROOT}/projects/${project}/regions/${region}/subnetworks/default`,
        networkIP: i.networkIP,
        name: 'nic0',
        accessConfigs: [
          { kind: 'compute#accessConfig', type: 'ONE_TO_ONE_NAT', name: 'External NAT', ...(i.natIP ? { natIP: i.natIP } : {}), networkTier: i.networkTier },
        ],
        fingerprint: fingerprint(i.name),
        stackType: 'IPV4_ONLY',
      },
    ],
    disks: [
      {
        kind: 'compute#attachedDisk',
        type: 'PERSISTENT',
        mode: 'READ_WRITE',
        source: `${zoneUrl}/disks/${i.diskName}`,
        deviceName: 'persistent-disk-0',
        index: 0,
        boot: true,
        autoDelete: i.diskAutoDelete,
        interface: 'SCSI',
        diskSizeGb: '10',
        architecture: 'X86_64',
      },
    ],
    metadata: { kind: 'compute#metadata', fingerprint: fingerprint(String(i.metadata.length)), items: i.metadata },
    selfLink: `${zoneUrl}/instances/${i.name}`,
    scheduling: { onHostMaintenance: 'MIGRATE', automaticRestart: true, preemptible: false, provisioningModel: 'STANDARD' },
    cpuPlatform: i.status === 'RUNNING' ? 'Intel Broadwell' : 'Unknown CPU Platform',
    labels: i.labels,
    labelFingerprint: fingerprint(JSON.stringify(i.labels)),
    startRestricted: false,
    deletionProtection: false,
    fingerprint: fingerprint(i.id),
    ...(i.status === 'RUNNING' ? { lastStartTimestamp: i.created } : {}),
  };
}

export function firewallJson(project: string, f: FirewallRecord): Record<string, unknown> {
  return {
    kind: 'compute#firewall',
    id: f.id,
    creationTimestamp: f.created,
    name: f.name,
    ...(f.description !== undefined ? { description: f.description } : {}),
    network: `${API_ROOT}/projects/${project}/${f.network.replace(/^.*?(global\/networks\/)/, '$1')}`,
    priority: f.priority,
    sourceRanges: f.sourceRanges,
    targetTags: f.targetTags,
    allowed: f.allowed,
    direction: f.direction,
    logConfig: { enable: false },
    disabled: false,
    selfLink: `${API_ROOT}/projects/${project}/global/firewalls/${f.name}`,
  };
}

export function addressJson(project: string, a: AddressRecord): Record<string, unknown> {
  return {
    kind: 'compute#address',
    id: a.id,
    creationTimestamp: a.created,
    name: a.name,
    ...(a.description !== undefined ? { description: a.description } : {}),
    address: a.address,
    status: a.status,
    region: `${API_ROOT}/projects/${project}/regions/${a.region}`,
    selfLink: `${API_ROOT}/projects/${project}/regions/${a.region}/addresses/${a.name}`,
    users: a.users,
    networkTier: a.networkTier,
    labels: a.labels,
    labelFingerprint: fingerprint(JSON.stringify(a.labels)),
    addressType: 'EXTERNAL',
    ipVersion: 'IPV4',
  };
}

export function operationJson(project: string, o: OperationRecord): Record<string, unknown> {
  const where = o.scope.kind === 'zone' ? `zones/${o.scope.zone}` : o.scope.kind === 'region' ? `regions/${o.scope.region}` : 'global';
  return {
    kind: 'compute#operation',
    id: o.id,
    name: o.name,
    operationType: o.operationType,
    targetLink: o.targetLink,
    targetId: o.targetId,
    status: o.status,
    user: 'inletsctl-test@example.iam.gserviceaccount.com',
    progress: o.status === 'DONE' ? 100 : 0,
    insertTime: o.insertTime,
    startTime: o.insertTime,
    ...(o.endTime ? { endTime: o.endTime } : {}),
    selfLink: `${API_ROOT}/projects/${project}/${where}/operations/${o.name}`,
    ...(o.scope.kind === 'zone' ? { zone: `${API_ROOT}/projects/${project}/zones/${o.scope.zone}` } : {}),
    ...(o.scope.kind === 'region' ? { region: `${API_ROOT}/projects/${project}/regions/${o.scope.region}` } : {}),
    ...(o.status === 'DONE' && o.error
      ? { error: { errors: [{ code: o.error.code, message: o.error.message }] }, httpErrorStatusCode: o.error.httpStatus, httpErrorMessage: o.error.httpMessage }
      : {}),
  };
}

/** One term of a filter. */
interface Term {
  field: string;
  op: '=' | '!=' | ':*';
  value?: string;
}

/**
 * Parses a list filter into terms that must all hold.
 * @throws Error for anything outside the subset (the fake answers 400 and records a problem).
 */
export function parseFilter(filter: string): Term[] {
  const text = filter.trim();
  if (!text) return [];
  const parts = text.startsWith('(') ? [...text.matchAll(/\(([^()]*)\)\s*(?:AND\s*)?/g)].map((m) => m[1]) : text.split(/\s+AND\s+/);
  if (text.startsWith('(') && parts.join('').length === 0) throw new Error(`cannot parse filter ${JSON.stringify(filter)}`);
  return parts.map((part) => {
    const m = /^\s*([A-Za-z][\w.-]*)\s*(=|!=|:\*)\s*(?:"([^"]*)"|([^\s"()]+))?\s*$/.exec(part);
    if (!m || (m[2] !== ':*' && m[3] === undefined && m[4] === undefined)) throw new Error(`cannot parse filter term ${JSON.stringify(part)}`);
    return { field: m[1], op: m[2] as Term['op'], value: m[3] ?? m[4] };
  });
}

/** Whether a rendered resource satisfies every term. */
export function matchesFilter(resource: Record<string, unknown>, terms: Term[]): boolean {
  return terms.every((t) => {
    let v: unknown = resource;
    for (const key of t.field.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
    if (t.op === ':*') return v !== undefined;
    const equal = v !== undefined && String(v) === t.value;
    return t.op === '=' ? equal : !equal;
  });
}
