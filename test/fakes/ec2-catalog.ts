/**
 * What the EC2 fake's world contains before any test acts: regions, their VPCs and subnets,
 * instance types, key pairs, and public images: Debian's own (account 136693071363, the names
 * and layout Debian uses) and an impostor's image with a Debian name under another account and a
 * newer date, which a lookup by name alone would pick.
 */

/** The fake's own account. */
export const ACCOUNT_ID = '123456789012';
export const DEBIAN_ACCOUNT = '136693071363';
/** Someone else who publishes an image named like Debian's. */
export const IMPOSTOR_ACCOUNT = '666666666666';

export const REGIONS = ['eu-west-1', 'eu-west-2', 'eu-central-1', 'us-east-1', 'us-east-2', 'us-west-2', 'ap-southeast-1'];

export interface CatalogImage {
  ImageId: string;
  Name: string;
  OwnerId: string;
  Architecture: 'arm64' | 'x86_64';
  CreationDate: string;
  State: 'available';
  RootDeviceName: string;
  Description: string;
}

function debian(id: string, release: number, arch: 'arm64' | 'x86_64', stamp: string): CatalogImage {
  const word = arch === 'arm64' ? 'arm64' : 'amd64';
  const [d, t] = stamp.split('-');
  return {
    ImageId: id,
    Name: `debian-${release}-${word}-${stamp}`,
    OwnerId: DEBIAN_ACCOUNT,
    Architecture: arch,
    CreationDate: `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${t.slice(0, 2)}:${t.slice(2, 4)}:00.000Z`,
    State: 'available',
    RootDeviceName: '/dev/xvda',
    Description: `Debian ${release} (${stamp})`,
  };
}

/** The same images in every region (real AMI ids differ per region; the fake keeps them simple). */
export const IMAGES: CatalogImage[] = [
  debian('ami-0d13a0000000aa001', 13, 'x86_64', '20250814-2206'),
  debian('ami-0d13a0000000aa002', 13, 'x86_64', '20251006-2257'),
  debian('ami-0d13a0000000bb001', 13, 'arm64', '20250814-2206'),
  debian('ami-0d13a0000000bb002', 13, 'arm64', '20251006-2257'),
  debian('ami-0d12a0000000aa001', 12, 'x86_64', '20250916-2238'),
  debian('ami-0d12a0000000bb001', 12, 'arm64', '20250916-2238'),
  // Debian's backports image: a different name family, never the plain release.
  { ...debian('ami-0d13a0000000cc001', 13, 'x86_64', '20251101-0000'), Name: 'debian-13-backports-amd64-20251101-0000' },
  // Same name pattern, newest date, someone else's account.
  { ...debian('ami-0bad00000000ff001', 13, 'x86_64', '20260101-0000'), OwnerId: IMPOSTOR_ACCOUNT, Description: 'Debian 13 (totally official)' },
  { ...debian('ami-0bad00000000ff002', 13, 'arm64', '20260101-0000'), OwnerId: IMPOSTOR_ACCOUNT, Description: 'Debian 13 (totally official)' },
];

export interface CatalogInstanceType {
  architecture: 'arm64' | 'x86_64';
  burstable: boolean;
  vcpus: number;
  memoryMiB: number;
}

export const INSTANCE_TYPES: Record<string, CatalogInstanceType> = {
  't4g.nano': { architecture: 'arm64', burstable: true, vcpus: 2, memoryMiB: 512 },
  't4g.micro': { architecture: 'arm64', burstable: true, vcpus: 2, memoryMiB: 1024 },
  't3.nano': { architecture: 'x86_64', burstable: true, vcpus: 2, memoryMiB: 512 },
  't3a.nano': { architecture: 'x86_64', burstable: true, vcpus: 2, memoryMiB: 512 },
  'm7g.medium': { architecture: 'arm64', burstable: false, vcpus: 1, memoryMiB: 4096 },
  'c7i.large': { architecture: 'x86_64', burstable: false, vcpus: 2, memoryMiB: 4096 },
};

export const KEY_PAIRS = ['inlets-admin'];

/** Per region: the default VPC (with a default subnet) and one more VPC with a subnet. */
export interface RegionNetwork {
  defaultVpc: string;
  defaultSubnet: string;
  otherVpc: string;
  otherSubnet: string;
}

export function regionNetwork(region: string): RegionNetwork {
  const n = (REGIONS.indexOf(region) + 1).toString(16).padStart(2, '0');
  return {
    defaultVpc: `vpc-0def00000000000${n}`,
    defaultSubnet: `subnet-0def0000000000${n}`,
    otherVpc: `vpc-0a1100000000000${n}`,
    otherSubnet: `subnet-0b220000000000${n}`,
  };
}
