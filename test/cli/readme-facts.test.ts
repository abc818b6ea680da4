/**
 * README says what the program does in numbers people act on (cost, firewall, Node version): it
 * must say what `inletsctl providers` and package.json say.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { providers } from '../../providers/index.js';
import { firewallText, usdText } from '../../src/cli/run/provider-summary.js';
import { root } from './cli-harness.js';

const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The provider table's cells by provider name (backticks dropped). */
function providerRows(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of readme.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim().replace(/`/g, ''));
    const name = /^([a-z0-9-]+)/.exec(cells[0] ?? '')?.[1];
    if (name && providers.some((p) => p.description.name === name) && cells.length >= 6) rows.set(name, cells);
  }
  return rows;
}

describe('README agrees with the program', () => {
  it('lists every provider with the cost and firewall `inletsctl providers` prints', () => {
    const rows = providerRows();
    for (const { description: d } of providers) {
      const cells = rows.get(d.name);
      expect(cells, d.name).toBeDefined();
      expect(cells![4], `${d.name} $/month`).toBe(usdText(d.defaults.monthlyUsd));
      expect(cells![5].startsWith(firewallText(d.firewall).replace(/ \(.*/, '')), `${d.name} firewall: ${cells![5]}`).toBe(true);
    }
    expect(firewallText('never')).toBe('none');
  });

  it('names the Node version package.json requires', () => {
    const engines = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node as string;
    const min = /^>=\s*([\d.]+)$/.exec(engines)![1];
    expect(readme).toContain(`You need Node ${min} or newer`);
  });
});
