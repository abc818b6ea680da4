/**
 * The `#cloud-config` form of an exit node plan, and its reverse. Only three cloud-init modules
 * are used: `write_files` (init stage), `packages` (final stage, before user scripts) and `runcmd`
 * (run by scripts-user, after the packages are in), so the order on the node is: files, Node,
 * then the unit is started. Reading refuses any key this project does not write.
 */
import { gunzipSync } from 'node:zlib';
import { CodedError } from '../../errors.js';
import { gzipStable } from './gzip-stable.js';
import type { ExitNodePlan, FileEncoding, PlannedFile } from './exit-node-plan.js';
import { readYaml, writeYaml, type YamlValue } from './yaml-subset.js';

export const CLOUD_CONFIG_HEADER = '#cloud-config';

/** Renders the plan as a cloud-config document (text, not compressed). */
export function writeCloudConfig(plan: ExitNodePlan, comment: string[]): string {
  const doc = {
    packages: plan.packages,
    write_files: plan.files.map((f) => {
      const entry: { [key: string]: YamlValue } = { path: f.path, owner: f.owner, permissions: f.permissions };
      if (f.encoding !== 'text') entry.encoding = f.encoding;
      entry.content = encodeContent(f.content, f.encoding);
      return entry;
    }),
    runcmd: plan.commands,
  };
  return [CLOUD_CONFIG_HEADER, ...comment.map((c) => `# ${c}`.trimEnd()), writeYaml(doc)].join('\n');
}

/** Encodes file content as cloud-init's write_files `encoding` expects it. */
export function encodeContent(content: Buffer, encoding: FileEncoding): string {
  if (encoding === 'gz+b64') return gzipStable(content).toString('base64');
  if (encoding === 'b64') return content.toString('base64');
  const text = content.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(content)) {
    throw new CodedError('USERDATA_INVALID', 'text encoding was asked for binary content; use b64 or gz+b64');
  }
  return text;
}

const ENCODINGS: Record<string, FileEncoding> = {
  'gz+b64': 'gz+b64',
  'gz+base64': 'gz+b64',
  'gzip+b64': 'gz+b64',
  'gzip+base64': 'gz+b64',
  b64: 'b64',
  base64: 'b64',
  'text/plain': 'text',
};

const TOP_KEYS = new Set(['packages', 'write_files', 'runcmd']);
const FILE_KEYS = new Set(['path', 'owner', 'permissions', 'encoding', 'content']);

function unsupported(what: string): never {
  throw new CodedError('USERDATA_UNSUPPORTED', `cloud-config: ${what} (inletsctl's interpreter knows only what its templates write)`);
}

/** Reads a cloud-config document back into a plan; fails on anything our templates never write. */
export function readCloudConfig(text: string): ExitNodePlan {
  if (!text.startsWith(`${CLOUD_CONFIG_HEADER}\n`)) unsupported(`the document does not start with "${CLOUD_CONFIG_HEADER}"`);
  const doc = readYaml(text);
  for (const key of Object.keys(doc)) if (!TOP_KEYS.has(key)) unsupported(`unknown key "${key}"`);
  return {
    packages: stringList(doc.packages ?? [], 'packages'),
    files: list(doc.write_files ?? [], 'write_files').map(readFile),
    commands: list(doc.runcmd ?? [], 'runcmd').map((c, i) => {
      if (typeof c === 'string') unsupported(`runcmd[${i}] is a shell string; inletsctl writes argv lists`);
      return stringList(c, `runcmd[${i}]`);
    }),
  };
}

function readFile(entry: YamlValue, i: number): PlannedFile {
  if (typeof entry !== 'object' || Array.isArray(entry)) unsupported(`write_files[${i}] is not a mapping`);
  for (const key of Object.keys(entry)) if (!FILE_KEYS.has(key)) unsupported(`write_files[${i}]: unknown key "${key}"`);
  const path = str(entry.path, `write_files[${i}].path`);
  const encodingWord = entry.encoding === undefined ? 'text/plain' : str(entry.encoding, `write_files[${i}].encoding`);
  const encoding = ENCODINGS[encodingWord] ?? unsupported(`write_files[${i}]: encoding "${encodingWord}"`);
  const raw = str(entry.content ?? '', `write_files[${i}].content`);
  let content: Buffer;
  if (encoding === 'text') content = Buffer.from(raw, 'utf8');
  else {
    if (!/^[A-Za-z0-9+/=\s]*$/.test(raw)) unsupported(`write_files[${i}] (${path}): content is not base64`);
    content = Buffer.from(raw, 'base64');
    if (encoding === 'gz+b64') {
      try {
        content = gunzipSync(content);
      } catch {
        unsupported(`write_files[${i}] (${path}): content is not gzip data`);
      }
    }
  }
  return {
    path,
    owner: entry.owner === undefined ? 'root:root' : str(entry.owner, `write_files[${i}].owner`),
    permissions: entry.permissions === undefined ? '0644' : str(entry.permissions, `write_files[${i}].permissions`),
    encoding,
    content,
  };
}

function list(v: YamlValue, where: string): YamlValue[] {
  if (!Array.isArray(v)) unsupported(`${where} is not a list`);
  return v;
}

function stringList(v: YamlValue, where: string): string[] {
  return list(v, where).map((x, i) => str(x, `${where}[${i}]`));
}

function str(v: YamlValue, where: string): string {
  if (typeof v !== 'string') unsupported(`${where} is not a string`);
  return v;
}
