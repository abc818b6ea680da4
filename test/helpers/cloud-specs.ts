/**
 * The official API descriptions the fakes check every exchange against live beside the clone, in
 * ../shared/cloud-specs/ (see SOURCES.md there). Without them nearly every provider test would
 * fail with its own ENOENT; this names the folder once instead.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of ../shared/cloud-specs, from the repository root ($INLETSCTL_CLOUD_SPECS overrides it, to try the message). */
export const CLOUD_SPECS_DIR = process.env.INLETSCTL_CLOUD_SPECS ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'cloud-specs');

/** The one message for a missing folder (or a missing file inside it). */
export function missingCloudSpecsMessage(missing: string): string {
  return (
    `the fake clouds need the official API descriptions in ${CLOUD_SPECS_DIR} (missing: ${missing}). ` +
    'Put the shared folder beside the clone (clones in /work/ see /work/shared), then run the tests again.'
  );
}

/** @throws Error with {@link missingCloudSpecsMessage} when `relative` (inside the folder) is absent */
export function requireCloudSpec(relative = ''): string {
  const path = join(CLOUD_SPECS_DIR, relative);
  if (!existsSync(CLOUD_SPECS_DIR)) throw new Error(missingCloudSpecsMessage(CLOUD_SPECS_DIR));
  if (!existsSync(path)) throw new Error(missingCloudSpecsMessage(path));
  return path;
}
