/**
 * vitest globalSetup: checks, once before any test file loads, what the tests need from outside
 * the repository, so a missing ../shared/cloud-specs is one clear message and not hundreds of
 * ENOENT failures.
 */
import { requireCloudSpec } from './cloud-specs.js';

export default function setup(): void {
  requireCloudSpec();
}
