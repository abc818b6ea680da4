/**
 * renderUserData: the one function that turns templates/ into an exit node's user-data, as a
 * `#cloud-config` document or an equivalent `#!/bin/bash` script, optionally gzip-compressed.
 */
import { gunzipSync } from 'node:zlib';
import { CodedError, UsageError } from '../../errors.js';
import { engineBundlePath, readEngineBundle } from '../engine-bundle.js';
import { readBootScript, SCRIPT_HEADER, writeBootScript } from './boot-script.js';
import { CLOUD_CONFIG_HEADER, readCloudConfig, writeCloudConfig } from './cloud-config.js';
import { gzipStable } from './gzip-stable.js';
import { buildExitNodePlan, bundleModeOf, stagedServer, type ExitNodePlan, type HttpsInput, type TunnelMode } from './exit-node-plan.js';

export type UserDataFormat = 'cloud-config' | 'script';

export interface RenderInput {
  /** 'tcp', or 'https' (the http server with Let's Encrypt: `https` says for which domains). */
  mode: TunnelMode;
  https?: HttpsInput;
  /** The shared secret; it goes into /etc/default/inlets (mode 0600), never a command line. */
  token: string;
  /** The server's TLS pair, made by inletsctl so the client can pin the key. */
  tls: { certPem: string; keyPem: string };
  /** The control port, 8123 unless changed. */
  controlPort: number;
  format: UserDataFormat;
  /** gzip the whole document (cloud-init accepts it; only for APIs that take binary user-data). */
  binary: boolean;
  /** The engine to embed; default: this package's server bundle for the mode (dist/inlets-server-tcp.mjs, -http.mjs). */
  engineBundle?: Buffer;
  /** ISO 8601 expiry (`create --ttl`): the node powers off then (a transient systemd timer). */
  expiresAt?: string;
}

const comment = (mode: TunnelMode) => [`inlets exit node (${mode}) by inletsctl; holds the token and TLS key`];

/**
 * Renders the user-data.
 * @throws UsageError `ENGINE_BUNDLE_MISSING` (no dist/inlets.mjs), `TOKEN_INVALID`, `PORT_INVALID`,
 *   `MODE_UNSUPPORTED`.
 */
export function renderUserData(input: RenderInput): Buffer {
  const plan = buildExitNodePlan({
    mode: input.mode,
    https: input.https,
    token: input.token,
    tls: input.tls,
    controlPort: input.controlPort,
    engineBundle: input.engineBundle ?? readEngineBundle(engineBundlePath(bundleModeOf(input.mode))),
    expiresAt: input.expiresAt,
  });
  const text = input.format === 'cloud-config' ? writeCloudConfig(plan, comment(input.mode)) : writeBootScript(plan, comment(input.mode));
  const raw = Buffer.from(text, 'utf8');
  return input.binary ? gzipStable(raw) : raw;
}

/**
 * The user-data for `input.mode` as create sends it under `limitBytes`: HTTPS mode whose whole
 * user-data is over the limit goes staged (PROTOCOL.md §15), and `stagedServer` holds the bytes
 * create then delivers. `wholeBytes` is the size of the whole form. The bundle is read once.
 */
export function renderWithin(input: RenderInput & { mode: 'tcp' | 'https' }, limitBytes: number): { userData: Buffer; wholeBytes: number; stagedServer?: Buffer } {
  const engineBundle = input.engineBundle ?? readEngineBundle(engineBundlePath(bundleModeOf(input.mode)));
  const userData = renderUserData({ ...input, engineBundle });
  if (input.mode !== 'https' || userData.length <= limitBytes) return { userData, wholeBytes: userData.length };
  return { userData: renderUserData({ ...input, mode: 'https-staged', engineBundle }), wholeBytes: userData.length, stagedServer: stagedServer(engineBundle).bytes };
}

/**
 * Fails when `userData` is over `limitBytes` (the provider's documented limit on the raw bytes).
 * @throws UsageError `USERDATA_TOO_LARGE` naming the provider, the size and the limit.
 */
export function checkUserDataSize(userData: Buffer, limitBytes: number, providerName: string): void {
  if (userData.length <= limitBytes) return;
  throw new UsageError(
    `the rendered user-data is ${userData.length} bytes, over ${providerName}'s limit of ${limitBytes} bytes ` +
      `(${userData.length - limitBytes} too many)`,
    'USERDATA_TOO_LARGE',
  );
}

/** The user-data as text: un-gzipped when it is gzip data. */
export function userDataText(userData: Buffer): string {
  const raw = userData[0] === 0x1f && userData[1] === 0x8b ? gunzipSync(userData) : userData;
  return raw.toString('utf8');
}

/**
 * Reads user-data of either format (gzipped or not) back into the plan it was rendered from.
 * @throws CodedError `USERDATA_UNSUPPORTED` for anything our templates never write.
 */
export function parseUserData(userData: Buffer): { format: UserDataFormat; plan: ExitNodePlan } {
  let text: string;
  try {
    text = userDataText(userData);
  } catch (err) {
    throw new CodedError('USERDATA_UNSUPPORTED', 'the user-data looks gzip-compressed but does not decompress', { cause: err });
  }
  if (text.startsWith(`${CLOUD_CONFIG_HEADER}\n`)) return { format: 'cloud-config', plan: readCloudConfig(text) };
  if (text.startsWith(`${SCRIPT_HEADER}\n`)) return { format: 'script', plan: readBootScript(text) };
  const first = JSON.stringify(text.slice(0, 40).split('\n')[0]);
  throw new CodedError('USERDATA_UNSUPPORTED', `user-data must start with "${CLOUD_CONFIG_HEADER}" or "${SCRIPT_HEADER}", not ${first}`);
}
