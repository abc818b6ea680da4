#!/usr/bin/env node
// Runs one fake cloud as its own process, so a CLI in another process (or a person) can use it:
//   node test/fakes/run-fake.mjs digitalocean [--api-only] [--active-after N] [--max-per-page N]
// Prints one JSON line {"provider","url","admin"} and serves until SIGINT/SIGTERM.
// The fakes are TypeScript: tsx (a dependency) compiles them on the fly.
import { register } from 'tsx/esm/api';

register();
const { fakeFor } = await import('./index.ts');
const [provider, ...rest] = process.argv.slice(2);
const entry = fakeFor(provider ?? '');
if (!entry) {
  console.error(`usage: run-fake.mjs <provider> [--api-only] [--active-after N] [--max-per-page N]`);
  process.exit(2);
}
const number = (flag) => {
  const i = rest.indexOf(flag);
  return i === -1 ? undefined : Number(rest[i + 1]);
};
const fake = await entry.start({
  boot: rest.includes('--api-only') ? false : undefined,
  activeAfterPolls: number('--active-after'),
  maxPerPage: number('--max-per-page'),
});
console.log(JSON.stringify({ provider, url: fake.url, admin: `${fake.origin}/__fake/state` }));
const stop = async () => {
  await fake.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
