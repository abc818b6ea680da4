/**
 * AWS EC2: one instance and one security group per tunnel, through the official SDK
 * (`@aws-sdk/client-ec2`). This file is the cheap description: it must not import the SDK, which
 * loads (in about 0.3 s) only when this provider is used, so `inletsctl --help` stays fast.
 */
import type { ProviderModule } from '../../src/core/provider.js';

/** Environment variable overriding the EC2 endpoint (fakes, proxies, compatible endpoints). */
export const EC2_API_URL_ENV = 'AWS_EC2_API_URL';
/** The SDK's own per-service endpoint variable, also honoured (after {@link EC2_API_URL_ENV}). */
export const AWS_ENDPOINT_URL_EC2_ENV = 'AWS_ENDPOINT_URL_EC2';

export const ec2Provider: ProviderModule = {
  description: {
    name: 'ec2',
    title: 'AWS EC2',
    defaults: {
      // Ireland, as inletsctl has always defaulted to; every region works (--region).
      region: 'eu-west-1',
      // t4g.nano (Graviton, arm64: 2 vCPU burstable, 0.5 GiB) is the cheapest current instance
      // type: about $0.0046/hour in eu-west-1 against $0.0057 for t3.nano, and Node and the
      // engine run the same on arm64. Launched with "standard" CPU credits, so a busy tunnel is
      // throttled rather than billed extra. Plus the public IPv4 address ($0.005/hour since
      // February 2024) and an 8 GiB gp3 root volume: about $7.70/month in all.
      // Prices: https://aws.amazon.com/ec2/pricing/on-demand/ ; IPv4: https://aws.amazon.com/vpc/pricing/
      // Image: the newest Debian 13 AMI published by Debian's own AWS account (136693071363),
      // looked up by name AND owner at create time: https://wiki.debian.org/Cloud/AmazonEC2Image
      plan: 't4g.nano',
      image: 'debian-13',
      reason:
        'cheapest current type (t4g.nano, arm64, about $3.40/month) plus its public IPv4 ($3.65) and an 8 GiB root volume, with the newest Debian 13 AMI from Debian\'s own account; see https://aws.amazon.com/ec2/pricing/on-demand/ and https://wiki.debian.org/Cloud/AmazonEC2Image',
      monthlyUsd: 7.7,
    },
    regions: [
      'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'eu-north-1', 'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
      'ca-central-1', 'sa-east-1', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1', 'ap-northeast-2',
    ],
    credentials: {
      // --access-token is the access key id, --secret-key its secret, --session-token the token
      // of temporary credentials. Without them the AWS default chain is used: environment,
      // shared config and credentials files (profiles, SSO), container and instance roles.
      flags: ['access-token', 'access-token-file', 'secret-key', 'secret-key-file', 'session-token', 'session-token-file'],
      env: ['AWS_ACCESS_KEY_ID'],
      howTo:
        'IAM console → Users → your user → Security credentials → Create access key; or a profile or SSO login set up with `aws configure` (see docs/providers/ec2.md)',
      required: false,
    },
    extraFlags: {
      profile: { type: 'string', env: 'AWS_PROFILE', describe: 'AWS profile from ~/.aws/config and ~/.aws/credentials (SSO included)' },
      'vpc-id': { type: 'string', describe: 'VPC for the exit server and its security group (with --subnet-id; default: the default VPC)' },
      'subnet-id': { type: 'string', describe: 'Subnet of --vpc-id for the exit server; it gets a public IPv4' },
      'aws-key-name': { type: 'string', describe: 'EC2 key pair to install for SSH (optional; port 22 is not opened unless in --ports)' },
    },
    apiUrlEnv: EC2_API_URL_ENV,
    userData: {
      // "User data is limited to 16 KB, in raw form, before it is base64-encoded"; cloud-init on
      // Debian's AMIs reads gzip-compressed user-data. https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html
      limitBytes: 16 * 1024,
      format: 'cloud-config',
      binary: true,
    },
    firewall: 'always',
  },
  async load() {
    const { createEc2Provider } = await import('./ec2-provider.js');
    return createEc2Provider;
  },
};
