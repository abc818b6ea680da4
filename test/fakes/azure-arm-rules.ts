/**
 * What the Azure fake checks in requests, built from Azure's public REST documentation (the
 * Swagger files are not shipped with this project): the api-version each resource provider
 * accepts, and the fields of each PUT body that the documentation marks required or constrains,
 * for the resource types inletsctl makes. A request that breaks a rule is answered with the error
 * ARM would give, and recorded as a mismatch (tests require none).
 *
 * References: https://learn.microsoft.com/rest/api/resources/resource-groups ,
 * https://learn.microsoft.com/rest/api/virtualnetwork/ (virtual networks, subnets, public IP
 * addresses, network security groups, network interfaces),
 * https://learn.microsoft.com/rest/api/compute/virtual-machines/create-or-update ,
 * https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations .
 */

/** Stable api-versions each provider namespace accepts (the installed SDKs send the newest). */
export const API_VERSIONS: Record<'subscriptions' | 'resources' | 'network' | 'compute', string[]> = {
  subscriptions: ['2016-06-01', '2019-06-01', '2019-11-01', '2020-01-01', '2021-01-01', '2022-12-01'],
  resources: ['2021-04-01', '2022-09-01', '2023-07-01', '2024-03-01', '2024-07-01', '2024-11-01', '2025-03-01', '2025-04-01'],
  network: ['2023-09-01', '2023-11-01', '2024-01-01', '2024-03-01', '2024-05-01', '2024-07-01', '2024-10-01', '2025-01-01', '2025-03-01', '2025-05-01'],
  compute: ['2023-09-01', '2024-03-01', '2024-07-01', '2024-11-01', '2025-04-01', '2026-03-01'],
};

/** VM sizes the fake offers, with their CPU architecture. */
export const VM_SIZES: Record<string, 'x64' | 'Arm64'> = {
  Standard_B1ls: 'x64',
  Standard_B1s: 'x64',
  Standard_B1ms: 'x64',
  Standard_B2s: 'x64',
  Standard_B2ats_v2: 'x64',
  Standard_B2als_v2: 'x64',
  Standard_B2ts_v2: 'x64',
  Standard_B2ls_v2: 'x64',
  Standard_B2pts_v2: 'Arm64',
  Standard_B2pls_v2: 'Arm64',
  Standard_D2s_v5: 'x64',
  Standard_D2as_v5: 'x64',
  Standard_D2ps_v5: 'Arm64',
};

/** Marketplace images the fake knows: publisher:offer:sku → architecture. */
export const IMAGES: Record<string, 'x64' | 'Arm64'> = {
  'debian:debian-12:12': 'x64',
  'debian:debian-12:12-gen2': 'x64',
  'debian:debian-12:12-arm64': 'Arm64',
  'debian:debian-13:13': 'x64',
  'debian:debian-13:13-gen2': 'x64',
  'debian:debian-13:13-arm64': 'Arm64',
};

/** customData: "the maximum length of the binary array is 65535 bytes". */
export const CUSTOM_DATA_LIMIT = 65535;

/** A rule broken by a request: what ARM would answer, and the mismatch text. */
export interface Violation {
  status: number;
  code: string;
  message: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCidr = (v: unknown) => typeof v === 'string' && /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(v);
const bad = (message: string, code = 'InvalidRequestFormat', status = 400): Violation => ({ status, code, message });

/** Checks what every tracked resource's PUT body needs: location, tags as strings, properties. */
export function checkTracked(body: unknown, needsProperties = true): Violation[] {
  if (!isObject(body)) return [bad('the request body must be a JSON object', 'InvalidRequestContent')];
  const out: Violation[] = [];
  if (typeof body.location !== 'string' || !body.location) out.push(bad("the required property 'location' is missing", 'LocationRequired'));
  if (body.tags !== undefined && (!isObject(body.tags) || Object.values(body.tags).some((v) => typeof v !== 'string'))) out.push(bad('tags must be an object of strings', 'InvalidTag'));
  if (needsProperties && !isObject(body.properties)) out.push(bad("the required property 'properties' is missing"));
  return out;
}

export function checkVirtualNetwork(body: Json): Violation[] {
  const p = (body.properties ?? {}) as Json;
  const out: Violation[] = [];
  const prefixes = (p.addressSpace as Json | undefined)?.addressPrefixes;
  if (!Array.isArray(prefixes) || prefixes.length === 0 || !prefixes.every(isCidr)) out.push(bad('addressSpace.addressPrefixes must list CIDR blocks', 'InvalidAddressPrefixFormat'));
  for (const s of (Array.isArray(p.subnets) ? p.subnets : []) as unknown[]) out.push(...checkSubnet(s));
  return out;
}

export function checkSubnet(s: unknown): Violation[] {
  if (!isObject(s) || typeof s.name !== 'string' || !s.name) return [bad('every subnet needs a name')];
  const sp = (s.properties ?? {}) as Json;
  const ok = isCidr(sp.addressPrefix) || (Array.isArray(sp.addressPrefixes) && sp.addressPrefixes.length > 0 && sp.addressPrefixes.every(isCidr));
  return ok ? [] : [bad(`subnet ${s.name} needs addressPrefix or addressPrefixes`, 'InvalidAddressPrefixFormat')];
}

/**
 * Basic-SKU public IPs were retired on 30 September 2025; a Standard IP must be Static. (The
 * error codes for these two refusals are the fake's own: the documentation names none.)
 */
export function checkPublicIp(body: Json): Violation[] {
  const p = (body.properties ?? {}) as Json;
  const sku = (body.sku as Json | undefined)?.name;
  if (sku !== 'Standard' && sku !== 'StandardV2') return [bad(`public IP SKU ${String(sku ?? 'Basic (the default)')} cannot be created: Basic public IPs were retired on 30 September 2025; use sku.name Standard`, 'BasicSkuPublicIpRetired')];
  if (p.publicIPAllocationMethod !== 'Static') return [bad('a Standard public IP must use publicIPAllocationMethod Static', 'StandardSkuPublicIPAddressMustBeStatic')];
  if (p.publicIPAddressVersion !== undefined && p.publicIPAddressVersion !== 'IPv4' && p.publicIPAddressVersion !== 'IPv6') return [bad('publicIPAddressVersion must be IPv4 or IPv6')];
  return [];
}

export function checkSecurityGroup(body: Json): Violation[] {
  const p = (body.properties ?? {}) as Json;
  const rules = p.securityRules === undefined ? [] : p.securityRules;
  if (!Array.isArray(rules)) return [bad('securityRules must be an array')];
  const out: Violation[] = [];
  const priorities = new Set<string>();
  const port = /^(\*|\d{1,5}(-\d{1,5})?)$/;
  for (const r of rules as unknown[]) {
    if (!isObject(r) || typeof r.name !== 'string' || !isObject(r.properties)) {
      out.push(bad('every security rule needs a name and properties', 'InvalidSecurityRule'));
      continue;
    }
    const rp = r.properties;
    const where = `security rule ${r.name}`;
    if (!['Tcp', 'Udp', 'Icmp', 'Esp', 'Ah', '*'].includes(String(rp.protocol))) out.push(bad(`${where}: protocol ${String(rp.protocol)} is not Tcp, Udp, Icmp, Esp, Ah or *`, 'SecurityRuleInvalidProtocol'));
    if (rp.access !== 'Allow' && rp.access !== 'Deny') out.push(bad(`${where}: access must be Allow or Deny`, 'SecurityRuleInvalidAccess'));
    if (rp.direction !== 'Inbound' && rp.direction !== 'Outbound') out.push(bad(`${where}: direction must be Inbound or Outbound`, 'SecurityRuleInvalidDirection'));
    const priority = rp.priority;
    if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 100 || priority > 4096) out.push(bad(`${where}: priority must be an integer from 100 to 4096`, 'SecurityRuleInvalidPriority'));
    else if (priorities.has(`${String(rp.direction)}:${priority}`)) out.push(bad(`${where}: priority ${priority} is used twice in one direction`, 'SecurityRuleConflict'));
    else priorities.add(`${String(rp.direction)}:${priority}`);
    for (const [one, many] of [['sourcePortRange', 'sourcePortRanges'], ['destinationPortRange', 'destinationPortRanges']] as const) {
      const values = rp[one] !== undefined ? [rp[one]] : Array.isArray(rp[many]) ? (rp[many] as unknown[]) : [];
      if (values.length === 0 || !values.every((v) => typeof v === 'string' && port.test(v))) out.push(bad(`${where}: ${one} (or ${many}) must be *, a port or a range`, 'SecurityRuleInvalidPortRange'));
    }
    for (const [one, many] of [['sourceAddressPrefix', 'sourceAddressPrefixes'], ['destinationAddressPrefix', 'destinationAddressPrefixes']] as const) {
      const has = typeof rp[one] === 'string' || (Array.isArray(rp[many]) && (rp[many] as unknown[]).length > 0);
      if (!has) out.push(bad(`${where}: ${one} (or ${many}) is required`, 'SecurityRuleInvalidAddressPrefix'));
    }
  }
  return out;
}

/** Shape only; the references (subnet, IP, NSG exist and have Succeeded) are checked by the fake. */
export function checkNetworkInterface(body: Json): Violation[] {
  const p = (body.properties ?? {}) as Json;
  const configs = p.ipConfigurations;
  if (!Array.isArray(configs) || configs.length === 0) return [bad('a network interface needs at least one ipConfiguration', 'NetworkInterfaceMustHaveIpConfiguration')];
  const out: Violation[] = [];
  for (const c of configs as unknown[]) {
    const cp = isObject(c) && isObject(c.properties) ? c.properties : undefined;
    if (!isObject(c) || typeof c.name !== 'string' || !cp) {
      out.push(bad('every ipConfiguration needs a name and properties'));
      continue;
    }
    if (typeof (cp.subnet as Json | undefined)?.id !== 'string') out.push(bad(`ipConfiguration ${c.name}: subnet.id is required`, 'SubnetRequired'));
    if (cp.privateIPAllocationMethod !== undefined && cp.privateIPAllocationMethod !== 'Dynamic' && cp.privateIPAllocationMethod !== 'Static') out.push(bad(`ipConfiguration ${c.name}: privateIPAllocationMethod must be Dynamic or Static`));
  }
  return out;
}

/** Shape of a VM: size, image, OS profile (Linux), custom data within the limit, NICs. */
export function checkVirtualMachine(body: Json): Violation[] {
  const p = (body.properties ?? {}) as Json;
  const out: Violation[] = [];
  const size = (p.hardwareProfile as Json | undefined)?.vmSize;
  if (typeof size !== 'string' || !(size in VM_SIZES)) out.push(bad(`The value ${String(size)} provided for the VM size is not valid`, 'InvalidParameter'));
  const storage = (p.storageProfile ?? {}) as Json;
  const image = (storage.imageReference ?? {}) as Json;
  const key = [image.publisher, image.offer, image.sku].map((v) => String(v ?? '').toLowerCase()).join(':');
  if (!(key in IMAGES) || typeof image.version !== 'string') {
    out.push(bad(`The platform image '${[image.publisher, image.offer, image.sku, image.version].join(':')}' is not available. Verify that all fields in the storage profile are correct.`, 'PlatformImageNotFound', 404));
  } else if (typeof size === 'string' && size in VM_SIZES && VM_SIZES[size] !== IMAGES[key]) {
    out.push(bad(`The selected VM size '${size}' cannot boot the ${IMAGES[key]} image '${key}'`, 'BadRequest'));
  }
  const osDisk = (storage.osDisk ?? {}) as Json;
  if (osDisk.createOption !== 'FromImage') out.push(bad("storageProfile.osDisk.createOption must be 'FromImage' for a marketplace image", 'InvalidParameter'));
  const os = (p.osProfile ?? {}) as Json;
  if (typeof os.computerName !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/.test(os.computerName)) out.push(bad('osProfile.computerName must be 1-64 letters, digits and dashes', 'InvalidParameter'));
  const user = os.adminUsername;
  if (typeof user !== 'string' || !/^[a-z_][a-z0-9_-]{0,31}$/.test(user) || ['root', 'admin', 'administrator', 'user', 'test'].includes(user)) out.push(bad('osProfile.adminUsername is missing or not allowed', 'InvalidParameter'));
  const linux = (os.linuxConfiguration ?? {}) as Json;
  const keys = ((linux.ssh as Json | undefined)?.publicKeys ?? []) as Json[];
  if (linux.disablePasswordAuthentication === true) {
    if (!Array.isArray(keys) || keys.length === 0) out.push(bad('password authentication is disabled but no SSH public key is given', 'InvalidParameter'));
    for (const k of Array.isArray(keys) ? keys : []) {
      if (typeof k.keyData !== 'string' || !/^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( |$)/.test(k.keyData)) out.push(bad('an SSH public key is not in OpenSSH format', 'InvalidParameter'));
      if (k.path !== `/home/${String(user)}/.ssh/authorized_keys`) out.push(bad(`an SSH key path must be /home/${String(user)}/.ssh/authorized_keys`, 'InvalidParameter'));
    }
  } else if (typeof os.adminPassword !== 'string') {
    out.push(bad('a Linux VM needs adminPassword or disablePasswordAuthentication with an SSH key', 'InvalidParameter'));
  }
  if (os.customData !== undefined) {
    const text = String(os.customData);
    const decoded = Buffer.from(text, 'base64');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || decoded.toString('base64') !== text) out.push(bad('osProfile.customData must be base64', 'InvalidParameter'));
    else if (decoded.length > CUSTOM_DATA_LIMIT) out.push(bad(`osProfile.customData decodes to ${decoded.length} bytes; the limit is ${CUSTOM_DATA_LIMIT}`, 'InvalidParameter'));
  }
  const nics = (p.networkProfile as Json | undefined)?.networkInterfaces;
  if (!Array.isArray(nics) || nics.length === 0 || !nics.every((n) => isObject(n) && typeof n.id === 'string')) out.push(bad('networkProfile.networkInterfaces must reference at least one NIC by id', 'InvalidParameter'));
  return out;
}
