/**
 * Fixed inputs for the template tests, so the rendered documents (and their snapshots) never
 * change unless the templates or the renderer do. The PEM blocks are placeholders, not keys.
 */
import type { RenderInput } from '../../src/core/user-data/render.js';

export const FIXTURE_TOKEN = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';

export const FIXTURE_TLS = {
  certPem: '-----BEGIN CERTIFICATE-----\nRklYVFVSRSBDRVJUSUZJQ0FURSwgbm90IGEgcmVhbCBvbmU=\n-----END CERTIFICATE-----\n',
  keyPem: '-----BEGIN PRIVATE KEY-----\nRklYVFVSRSBLRVksIG5vdCBhIHJlYWwgb25l\n-----END PRIVATE KEY-----\n',
};

export const FIXTURE_BUNDLE = Buffer.from("#!/usr/bin/env node\nconsole.log('fixture engine bundle');\n");

export function fixtureInput(format: RenderInput['format'], binary: boolean): RenderInput {
  return { mode: 'tcp', token: FIXTURE_TOKEN, tls: FIXTURE_TLS, controlPort: 8123, format, binary, engineBundle: FIXTURE_BUNDLE };
}
