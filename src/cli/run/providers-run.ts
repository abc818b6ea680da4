/** `inletsctl providers`: one row per provider, from descriptions only (no implementation loads). */
import { formatTable, printJson, printText } from '../../core/output.js';
import { registry } from '../../core/registry.js';
import { firewallText, usdText } from './provider-summary.js';

export async function runProviders(args: Record<string, unknown>): Promise<void> {
  const reg = registry();
  const descriptions = reg.descriptions();
  if (args.json === true) {
    printJson({
      default: reg.defaultName,
      providers: descriptions.map((d) => ({
        name: d.name,
        title: d.title,
        defaults: d.defaults,
        regions: d.regions,
        credentials: d.credentials,
        extraFlags: d.extraFlags,
        apiUrlEnv: d.apiUrlEnv,
        userData: d.userData,
        firewall: d.firewall,
      })),
    });
    return;
  }
  const credentials = (d: (typeof descriptions)[number]) => {
    const c = d.credentials;
    const ways = [...c.flags.map((f) => `--${f}`), ...c.env];
    return ways.length ? `${c.required ? '' : '(optional) '}${ways.join(', ')}` : 'none';
  };
  printText(
    formatTable([
      ['NAME', 'REGION', 'PLAN', 'IMAGE', '$/MONTH', 'FIREWALL', 'CREDENTIALS'],
      ...descriptions.map((d) => [
        d.name === reg.defaultName ? `${d.name} (default)` : d.name,
        d.defaults.region,
        d.defaults.plan,
        d.defaults.image,
        usdText(d.defaults.monthlyUsd),
        firewallText(d.firewall),
        credentials(d),
      ]),
    ]) + '\n\nDetails and how to get each credential: inletsctl providers --json',
  );
}
