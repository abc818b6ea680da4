/**
 * Which machine to launch: the plan's CPU architecture (from DescribeInstanceTypes, so any
 * current or future type works, arm64 or x86_64) and the AMI for it.
 *
 * The AMI is found by name AND owner: the newest available image named `debian-<N>-<arch>-*`
 * whose owner is Debian's own AWS account. Anyone can publish a public AMI with any name, so a
 * lookup by name alone could launch an impostor's image with our token and TLS key in it; the
 * owner is checked in the request AND again on every image returned.
 * Debian's AMIs: https://wiki.debian.org/Cloud/AmazonEC2Image
 */
import { DescribeImagesCommand, DescribeInstanceTypesCommand, type Image, type _InstanceType } from '@aws-sdk/client-ec2';
import { ProviderError } from '../../src/errors.js';
import type { Ec2Api } from './ec2-api.js';

/** Debian's AWS account, which publishes the official Debian AMIs. */
export const DEBIAN_OWNER_ID = '136693071363';
/** Most images one DescribeImages page may return. */
const IMAGE_PAGE_SIZE = 1000;

export type Architecture = 'arm64' | 'x86_64';

export interface PlanInfo {
  architecture: Architecture;
  /** T-family types: launched with "standard" CPU credits so bursts are never billed extra. */
  burstable: boolean;
}

export interface ImageChoice {
  imageId: string;
  name: string;
  architecture: Architecture;
  /** The root volume's device, to make sure it is deleted with the instance. */
  rootDeviceName?: string;
}

/**
 * The architecture of instance type `plan` in `region`.
 * @throws ProviderError INVALID for a type EC2 does not offer there, or one that is neither arm64 nor x86_64
 */
export async function describePlan(api: Ec2Api, region: string, plan: string): Promise<PlanInfo> {
  const out = await api.call(region, 'DescribeInstanceTypes', (c, abortSignal) =>
    c.send(new DescribeInstanceTypesCommand({ InstanceTypes: [plan as _InstanceType] }), { abortSignal }),
  );
  const info = out.InstanceTypes?.find((t) => t.InstanceType === plan);
  if (!info) throw new ProviderError('ec2', 'INVALID', `instance type ${plan} is not offered in ${region}`, { retryable: false });
  const archs = info.ProcessorInfo?.SupportedArchitectures ?? [];
  const architecture = archs.includes('arm64') ? 'arm64' : archs.includes('x86_64') ? 'x86_64' : undefined;
  if (!architecture) {
    throw new ProviderError('ec2', 'INVALID', `instance type ${plan} runs ${archs.join(', ') || 'an unknown architecture'}; inletsctl needs arm64 or x86_64`, { retryable: false });
  }
  return { architecture, burstable: info.BurstablePerformanceSupported === true };
}

/**
 * The AMI for `image` (`debian-<N>`): the newest of Debian's own images for `architecture`.
 * @throws ProviderError INVALID when no image fits
 */
export async function chooseImage(api: Ec2Api, region: string, image: string, architecture: Architecture): Promise<ImageChoice> {
  const release = /^debian-(\d+)$/.exec(image)?.[1];
  if (!release) throw new ProviderError('ec2', 'INVALID', `image "${image}" is not debian-<release>`, { retryable: false });
  const prefix = `debian-${release}-${architecture === 'arm64' ? 'arm64' : 'amd64'}-`;
  const images: Image[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 100; page++) {
    const out = await api.call(region, 'DescribeImages', (c, abortSignal) =>
      c.send(
        new DescribeImagesCommand({
          Owners: [DEBIAN_OWNER_ID],
          Filters: [
            { Name: 'name', Values: [`${prefix}*`] },
            { Name: 'architecture', Values: [architecture] },
            { Name: 'state', Values: ['available'] },
          ],
          MaxResults: IMAGE_PAGE_SIZE,
          NextToken: nextToken,
        }),
        { abortSignal },
      ),
    );
    images.push(...(out.Images ?? []));
    nextToken = out.NextToken || undefined;
    if (!nextToken) break;
  }
  const newest = newestOfficial(images, prefix, architecture);
  if (!newest) {
    throw new ProviderError('ec2', 'INVALID', `no ${prefix}* image from Debian's account ${DEBIAN_OWNER_ID} in ${region}`, { retryable: false });
  }
  return newest;
}

/** The newest image that really is Debian's, of the right name and architecture. */
export function newestOfficial(images: Image[], prefix: string, architecture: Architecture): ImageChoice | undefined {
  const fits = images.filter(
    (i) => i.OwnerId === DEBIAN_OWNER_ID && i.Name?.startsWith(prefix) && i.Architecture === architecture && i.State === 'available' && i.ImageId,
  );
  fits.sort((a, b) => created(b) - created(a));
  const best = fits[0];
  return best ? { imageId: best.ImageId!, name: best.Name!, architecture, rootDeviceName: best.RootDeviceName } : undefined;
}

function created(i: Image): number {
  const t = Date.parse(i.CreationDate ?? '');
  return Number.isNaN(t) ? 0 : t;
}
