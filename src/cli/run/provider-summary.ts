/**
 * The words `inletsctl providers` prints for a provider's cost and firewall. README's provider
 * table uses the same words (a test compares them), so the two never disagree.
 */
import type { ProviderDescription } from '../../core/provider.js';

/** US dollars a month: `4`, `7.70`, `10.16` (cents only when there are some). */
export function usdText(usd: number | null): string {
  if (usd === null) return "your cloud's";
  return Number.isInteger(usd) ? String(usd) : usd.toFixed(2);
}

/** `none`, `optional (--firewall)` or `always`. */
export function firewallText(firewall: ProviderDescription['firewall']): string {
  return { never: 'none', optional: 'optional (--firewall)', always: 'always' }[firewall];
}
