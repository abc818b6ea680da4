/**
 * EC2 is regional, but `list` takes no region: it looks in the region of $AWS_REGION (or
 * $AWS_DEFAULT_REGION, else the provider's default) and in every region this user has created a
 * tunnel in, remembered in the provider's state directory (`regions.json`, not secret).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/util/atomic-file.js';

const FILE = 'regions.json';

/** The region for calls that name none: $AWS_REGION, $AWS_DEFAULT_REGION, else `fallback`. */
export function homeRegion(fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || fallback;
}

/** Regions remembered in `stateDir` (none when the file is missing or unreadable). */
export async function rememberedRegions(stateDir: string): Promise<string[]> {
  try {
    const parsed = JSON.parse(await readFile(join(stateDir, FILE), 'utf8')) as { regions?: unknown };
    return Array.isArray(parsed.regions) ? parsed.regions.filter((r): r is string => typeof r === 'string' && /^[a-z0-9-]+$/.test(r)) : [];
  } catch {
    return [];
  }
}

/**
 * Adds `region` to the remembered ones. Best effort: `list` still covers the home region without
 * it. Two creates racing may each write their own list; the loser's region is added again by its
 * next create (delete never needs this: the tunnel's record holds its region).
 */
export async function rememberRegion(stateDir: string, region: string): Promise<void> {
  const known = await rememberedRegions(stateDir);
  if (known.includes(region)) return;
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(stateDir, FILE), `${JSON.stringify({ regions: [...known, region].sort() }, null, 2)}\n`, 0o600);
  } catch {
    // An unwritable state directory must not fail a create.
  }
}
