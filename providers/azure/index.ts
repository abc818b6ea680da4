/**
 * Azure: one resource group per tunnel, holding a virtual network, a Standard static public IP, a
 * network security group, a NIC and a Debian VM, through the official ARM SDKs
 * (@azure/arm-resources, @azure/arm-network, @azure/arm-compute, @azure/identity). This file is the
 * cheap description; the implementation, and with it every Azure SDK, loads lazily.
 */
import type { ProviderModule } from '../../src/core/provider.js';

/** Environment variable overriding the Azure Resource Manager URL (fakes, proxies, other clouds). */
export const AZURE_API_URL_ENV = 'AZURE_RESOURCE_MANAGER_URL';
/** Environment variable holding the subscription (the Azure SDKs and the az CLI use the same name). */
export const AZURE_SUBSCRIPTION_ENV = 'AZURE_SUBSCRIPTION_ID';

export const azureProvider: ProviderModule = {
  description: {
    name: 'azure',
    title: 'Microsoft Azure',
    defaults: {
      region: 'eastus',
      // Standard_B2ats_v2: the smallest current-generation burstable size (Basv2: 2 vCPU, 1 GiB,
      // AMD), eligible for the free account's 750 hours a month; the older B1ls (512 MiB) is a
      // previous-generation Bv1 size. A Gen2 VM needs the Gen2 image SKU.
      // https://learn.microsoft.com/azure/virtual-machines/sizes/general-purpose/basv2-series
      // Debian 12 from Debian's own publisher account ("Debian"), whose nodejs (18) runs the engine;
      // URN publisher:offer:sku:version. https://wiki.debian.org/Cloud/MicrosoftAzure . Debian's
      // Azure images provision with cloud-init, whose Azure datasource treats customData as
      // user-data: https://docs.cloud-init.io/en/latest/reference/datasources/azure.html
      plan: 'Standard_B2ats_v2',
      image: 'Debian:debian-12:12-gen2:latest',
      reason:
        'smallest current burstable size (B2ats_v2: 2 vCPU, 1 GiB) with Debian 12 from the Debian publisher, plus a Standard static IPv4; see https://azure.microsoft.com/pricing/details/virtual-machines/linux/',
      // About $6.90 for the VM, $3.65 for the Standard static IPv4 and $1.54 for a 30 GiB
      // Standard HDD OS disk, pay-as-you-go in East US.
      monthlyUsd: 12,
    },
    regions: ['eastus', 'eastus2', 'westus2', 'centralus', 'northeurope', 'westeurope', 'uksouth', 'germanywestcentral', 'swedencentral', 'southeastasia', 'australiaeast', 'japaneast', 'canadacentral', 'centralindia'],
    credentials: {
      // --access-token-file: the JSON printed by `az ad sp create-for-rbac` (appId, password,
      // tenant); --access-token: an ARM bearer token (`az account get-access-token`). Neither:
      // DefaultAzureCredential (AZURE_CLIENT_ID/…SECRET/…TENANT_ID, workload or managed identity, az login).
      flags: ['access-token', 'access-token-file'],
      env: ['INLETS_ACCESS_TOKEN'],
      howTo:
        'az ad sp create-for-rbac --role Contributor --scopes /subscriptions/<id> > sp.json, then --access-token-file sp.json; or `az login` and nothing here',
      required: false,
    },
    extraFlags: {
      'subscription-id': {
        describe: 'Azure subscription to create the tunnel in (default: the only one the credential can see)',
        type: 'string',
        env: AZURE_SUBSCRIPTION_ENV,
      },
    },
    apiUrlEnv: AZURE_API_URL_ENV,
    userData: {
      // osProfile.customData: "The base-64 encoded string is decoded to a binary array that is
      // saved as a file on the Virtual Machine. The maximum length of the binary array is 65535
      // bytes." cloud-init reads gzip-compressed custom data, so binary is fine.
      limitBytes: 65535,
      format: 'cloud-config',
      binary: true,
    },
    // A Standard public IP is closed to inbound traffic until a security group allows it.
    firewall: 'always',
  },
  async load() {
    const { createAzureProvider } = await import('./azure-provider.js');
    return createAzureProvider;
  },
};
