/**
 * The botocore model of EC2 (../shared/cloud-specs/aws-ec2/service-2.json, see SOURCES.md) and
 * the two encodings of its `ec2` protocol, for the EC2 fake:
 *
 * - Requests are form-encoded: `Action`, `Version=2016-11-15`, then the input members. A member's
 *   key is its `queryName`, else its `locationName` with the first letter upper-cased, else its
 *   name; structures nest with dots (`IpPermissions.1.FromPort`), and lists are always flattened
 *   and numbered from 1 (`Filter.1.Value.2`). {@link decodeRequest} turns the form back into the
 *   input object (member names as keys), and reports every parameter the model does not know,
 *   every required member missing, and every scalar of the wrong type or outside its enum/range.
 * - Responses are XML: `<ActionResponse xmlns=…>` with `requestId`, each member as an element
 *   named by its `locationName`, lists wrapped in their own element with one child per item.
 *   {@link encodeResponse} writes that from an output object, and reports members the model does
 *   not know. Errors are `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/>`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface MemberRef {
  shape: string;
  locationName?: string;
  queryName?: string;
  deprecated?: boolean;
}

interface Shape {
  type: string;
  members?: Record<string, MemberRef>;
  required?: string[];
  member?: MemberRef;
  flattened?: boolean;
  enum?: string[];
  min?: number;
  max?: number;
}

interface Model {
  metadata: { apiVersion: string; xmlNamespace: string };
  operations: Record<string, { input?: { shape: string }; output?: { shape: string }; deprecated?: boolean }>;
  shapes: Record<string, Shape>;
}

const MODEL_PATH = join(dirname(fileURLToPath(import.meta.url)), '../../../shared/cloud-specs/aws-ec2/service-2.json');

let cached: Model | undefined;
/** The model, parsed once per process (4 MB of JSON). */
export function ec2Model(): Model {
  cached ??= JSON.parse(readFileSync(process.env.EC2_SPEC ?? MODEL_PATH, 'utf8')) as Model;
  return cached;
}

/** A decoded request: the action, and its input keyed by member names. */
export interface DecodedRequest {
  action?: string;
  input: Record<string, unknown>;
  problems: string[];
}

interface Tree {
  value?: string;
  children: Map<string, Tree>;
}

/** Decodes and checks one form-encoded EC2 request against the model. */
export function decodeRequest(params: URLSearchParams): DecodedRequest {
  const model = ec2Model();
  const problems: string[] = [];
  const action = params.get('Action') ?? undefined;
  const version = params.get('Version');
  if (!action) return { input: {}, problems: ['no Action parameter'] };
  const op = model.operations[action];
  if (!op) return { action, input: {}, problems: [`${action} is not an EC2 operation`] };
  if (op.deprecated) problems.push(`${action} is deprecated`);
  if (version !== model.metadata.apiVersion) problems.push(`Version is ${version ?? 'missing'}, not ${model.metadata.apiVersion}`);
  const root: Tree = { children: new Map() };
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version') continue;
    let node = root;
    for (const part of key.split('.')) {
      let next = node.children.get(part);
      if (!next) node.children.set(part, (next = { children: new Map() }));
      node = next;
    }
    if (node.value !== undefined) problems.push(`parameter ${key} is given twice`);
    node.value = value;
  }
  const input = op.input ? decodeStructure(op.input.shape, root, '', problems) : {};
  if (!op.input && root.children.size > 0) problems.push(`${action} takes no parameters`);
  return { action, input, problems };
}

/** The form key of a member, by the ec2 protocol's rules. */
export function queryKey(memberName: string, ref: MemberRef): string {
  if (ref.queryName) return ref.queryName;
  if (ref.locationName) return ref.locationName[0].toUpperCase() + ref.locationName.slice(1);
  return memberName;
}

function decodeStructure(shapeName: string, tree: Tree, prefix: string, problems: string[]): Record<string, unknown> {
  const shape = ec2Model().shapes[shapeName];
  if (tree.value !== undefined && tree.children.size === 0) problems.push(`${prefix.slice(0, -1) || 'request'} must be a structure (${shapeName})`);
  const byKey = new Map(Object.entries(shape.members ?? {}).map(([name, ref]) => [queryKey(name, ref), { name, ref }]));
  const out: Record<string, unknown> = {};
  for (const [key, child] of tree.children) {
    const member = byKey.get(key);
    if (!member) {
      problems.push(`unknown parameter ${prefix}${key} (not in ${shapeName})`);
      continue;
    }
    if (member.ref.deprecated) problems.push(`parameter ${prefix}${key} is deprecated`);
    out[member.name] = decodeValue(member.ref.shape, child, `${prefix}${key}`, problems);
  }
  for (const name of shape.required ?? []) {
    if (out[name] === undefined) problems.push(`required parameter ${prefix}${queryKey(name, shape.members![name])} is missing`);
  }
  return out;
}

function decodeValue(shapeName: string, tree: Tree, path: string, problems: string[]): unknown {
  const shape = ec2Model().shapes[shapeName];
  if (shape.type === 'structure') return decodeStructure(shapeName, tree, `${path}.`, problems);
  if (shape.type === 'list') {
    const keys = [...tree.children.keys()];
    const items: unknown[] = [];
    keys.forEach((k, i) => {
      if (k !== String(i + 1)) problems.push(`list ${path} must be numbered 1, 2, 3…; found ${path}.${k}`);
    });
    for (const [k, child] of tree.children) items.push(decodeValue(shape.member!.shape, child, `${path}.${k}`, problems));
    if (shape.min !== undefined && items.length < shape.min) problems.push(`${path} needs at least ${shape.min} items`);
    if (shape.max !== undefined && items.length > shape.max) problems.push(`${path} takes at most ${shape.max} items`);
    return items;
  }
  if (shape.type === 'map') {
    problems.push(`${path}: maps are not supported by this fake`);
    return undefined;
  }
  if (tree.children.size > 0 || tree.value === undefined) {
    problems.push(`${path} must be a ${shape.type} (${shapeName}), not a structure or list`);
    return undefined;
  }
  return decodeScalar(shape, shapeName, tree.value, path, problems);
}

function decodeScalar(shape: Shape, shapeName: string, text: string, path: string, problems: string[]): unknown {
  switch (shape.type) {
    case 'string':
      if (shape.enum && !shape.enum.includes(text)) problems.push(`${path}=${text} is not one of ${shapeName}'s values`);
      if (shape.max !== undefined && text.length > shape.max) problems.push(`${path} is longer than ${shape.max}`);
      return text;
    case 'integer':
    case 'long': {
      if (!/^-?\d+$/.test(text)) {
        problems.push(`${path}=${text} is not an integer`);
        return undefined;
      }
      const n = Number(text);
      if (shape.min !== undefined && n < shape.min) problems.push(`${path}=${n} is below ${shape.min}`);
      if (shape.max !== undefined && n > shape.max) problems.push(`${path}=${n} is above ${shape.max}`);
      return n;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') problems.push(`${path}=${text} is not true or false`);
      return text === 'true';
    case 'double':
    case 'float':
      if (!Number.isFinite(Number(text))) problems.push(`${path}=${text} is not a number`);
      return Number(text);
    case 'timestamp':
      if (Number.isNaN(Date.parse(text))) problems.push(`${path}=${text} is not a timestamp`);
      return new Date(text);
    case 'blob':
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) problems.push(`${path} is not base64`);
      return Buffer.from(text, 'base64');
    default:
      problems.push(`${path}: unknown type ${shape.type}`);
      return text;
  }
}

/** An EC2 success response for `action`, with the problems found in `output`. */
export function encodeResponse(action: string, output: Record<string, unknown>, requestId: string): { xml: string; problems: string[] } {
  const model = ec2Model();
  const problems: string[] = [];
  const shapeName = model.operations[action]?.output?.shape;
  if (!shapeName && Object.keys(output).length > 0) problems.push(`${action} has no output, but the fake answered members`);
  const body = shapeName ? encodeMembers(shapeName, output, '', problems) : '';
  const ns = `${model.metadata.xmlNamespace}/`;
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${ns}"><requestId>${requestId}</requestId>${body}</${action}Response>`;
  return { xml, problems };
}

/** EC2's error document. */
export function errorXml(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}

function encodeMembers(shapeName: string, value: Record<string, unknown>, path: string, problems: string[]): string {
  const members = ec2Model().shapes[shapeName].members ?? {};
  let out = '';
  for (const [name, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const ref = members[name];
    if (!ref) {
      problems.push(`response member ${path}${name} is not in ${shapeName}`);
      continue;
    }
    out += encodeElement(ref.locationName ?? name, ref.shape, v, `${path}${name}`, problems);
  }
  return out;
}

function encodeElement(element: string, shapeName: string, v: unknown, path: string, problems: string[]): string {
  const shape = ec2Model().shapes[shapeName];
  if (shape.type === 'structure') {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) problems.push(`response member ${path} must be a structure`);
    return `<${element}>${encodeMembers(shapeName, v as Record<string, unknown>, `${path}.`, problems)}</${element}>`;
  }
  if (shape.type === 'list') {
    if (!Array.isArray(v)) {
      problems.push(`response member ${path} must be a list`);
      return '';
    }
    const itemName = shape.member!.locationName ?? 'member';
    const items = v.map((item, i) => encodeElement(itemName, shape.member!.shape, item, `${path}[${i}]`, problems)).join('');
    return shape.flattened ? items : `<${element}>${items}</${element}>`;
  }
  let text: string;
  if (shape.type === 'timestamp') text = (v instanceof Date ? v : new Date(String(v))).toISOString();
  else if (shape.type === 'boolean') {
    if (typeof v !== 'boolean') problems.push(`response member ${path} must be a boolean`);
    text = String(v);
  } else if (shape.type === 'integer' || shape.type === 'long' || shape.type === 'double' || shape.type === 'float') {
    if (typeof v !== 'number') problems.push(`response member ${path} must be a number`);
    text = String(v);
  } else {
    text = String(v);
    if (shape.enum && !shape.enum.includes(text)) problems.push(`response member ${path}=${text} is not one of ${shapeName}'s values`);
  }
  return `<${element}>${escapeXml(text)}</${element}>`;
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}
