/**
 * Checks exchanges with the GCE fake against Google's discovery document for Compute Engine v1
 * (../shared/cloud-specs/gcp-compute/compute.v1.json, see SOURCES.md there): the method a request
 * path and verb name, its path and query parameters (names, patterns, types, enums), and request
 * and response bodies against the document's `schemas`: unknown properties, wrong types, bad
 * enum values, int64 not sent as a string, output-only fields sent, required fields missing.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the discovery document lives (the shared, unmodified copy). */
export const DISCOVERY_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'cloud-specs', 'gcp-compute', 'compute.v1.json');

interface Schema {
  id?: string;
  $ref?: string;
  type?: string;
  format?: string;
  pattern?: string;
  enum?: string[];
  readOnly?: boolean;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  items?: Schema;
  annotations?: { required?: string[] };
}

interface Parameter extends Schema {
  location: 'path' | 'query';
  required?: boolean;
  repeated?: boolean;
}

export interface DiscoveryMethod {
  /** `compute.instances.insert`. */
  id: string;
  httpMethod: string;
  path: string;
  parameters: Record<string, Parameter>;
  request?: { $ref: string };
  response?: { $ref: string };
}

interface Route {
  method: DiscoveryMethod;
  regex: RegExp;
  names: string[];
  literalLength: number;
}

interface Document {
  servicePath: string;
  parameters: Record<string, Parameter>;
  schemas: Record<string, Schema>;
  resources: Record<string, { methods?: Record<string, DiscoveryMethod> }>;
}

let loaded: { doc: Document; routes: Route[] } | undefined;

function discovery(): { doc: Document; routes: Route[] } {
  if (loaded) return loaded;
  const doc = JSON.parse(readFileSync(DISCOVERY_PATH, 'utf8')) as Document;
  const routes: Route[] = [];
  for (const resource of Object.values(doc.resources)) {
    for (const method of Object.values(resource.methods ?? {})) {
      const names: string[] = [];
      const source = `/${doc.servicePath}${method.path}`.replace(/[.*?^$()|[\]\\]/g, '\\$&').replace(/\{\+?([^}]+)\}/g, (_m, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      routes.push({ method, regex: new RegExp(`^${source}$`), names, literalLength: method.path.replace(/\{[^}]+\}/g, '').length });
    }
  }
  loaded = { doc, routes };
  return loaded;
}

/** The discovery method for a request, with its path parameters, or undefined. */
export function matchMethod(verb: string, pathname: string): { method: DiscoveryMethod; params: Record<string, string> } | undefined {
  let best: { route: Route; match: RegExpExecArray } | undefined;
  for (const route of discovery().routes) {
    if (route.method.httpMethod !== verb) continue;
    const match = route.regex.exec(pathname);
    if (match && (!best || route.literalLength > best.route.literalLength)) best = { route, match };
  }
  if (!best) return undefined;
  const params = Object.fromEntries(best.route.names.map((n, i) => [n, decodeURIComponent(best!.match[i + 1])]));
  return { method: best.route.method, params };
}

/** System parameters every Google API takes, in their `$`-prefixed spelling (the SDK sends `$alt`). */
const SYSTEM_PARAMETERS = new Set(['$alt', '$prettyPrint', '$fields', '$callback', '$.xgafv']);

/** Problems with a request's path and query parameters. */
export function checkParameters(method: DiscoveryMethod, pathParams: Record<string, string>, query: URLSearchParams): string[] {
  const problems: string[] = [];
  const global = discovery().doc.parameters;
  for (const [name, p] of Object.entries(method.parameters)) {
    if (p.location === 'path') {
      const value = pathParams[name];
      if (value === undefined) problems.push(`path parameter ${name} is missing`);
      else problems.push(...checkScalar(value, p, `path parameter ${name}`));
    } else if (p.required && !query.has(name)) {
      problems.push(`query parameter ${name} is required`);
    }
  }
  for (const name of new Set(query.keys())) {
    const p = method.parameters[name]?.location === 'query' ? method.parameters[name] : global[name];
    if (!p) {
      if (!SYSTEM_PARAMETERS.has(name)) problems.push(`query parameter ${name} is not a parameter of ${method.id}`);
      continue;
    }
    const values = query.getAll(name);
    if (values.length > 1 && !p.repeated) problems.push(`query parameter ${name} is given ${values.length} times`);
    for (const v of values) problems.push(...checkScalar(v, p, `query parameter ${name}`));
  }
  return problems;
}

function checkScalar(value: string, p: Schema, what: string): string[] {
  if (p.enum && !p.enum.includes(value)) return [`${what} "${value}" is not one of ${p.enum.join(', ')}`];
  if (p.type === 'integer' && !/^-?\d+$/.test(value)) return [`${what} "${value}" is not an integer`];
  if (p.type === 'boolean' && value !== 'true' && value !== 'false') return [`${what} "${value}" is not a boolean`];
  if (p.pattern && !new RegExp(`^(?:${p.pattern})$`).test(value)) return [`${what} "${value}" does not match ${p.pattern}`];
  return [];
}

/**
 * Problems with a body against schema `ref`. For a request (`methodId` given): output-only
 * fields sent with a value, and fields the method requires (annotations.required) missing.
 */
export function checkBody(body: unknown, ref: string, methodId?: string): string[] {
  const problems: string[] = [];
  checkValue(body, { $ref: ref }, 'body', problems, methodId);
  return problems.slice(0, 20);
}

function resolve(schema: Schema): Schema {
  let s = schema;
  for (let i = 0; s.$ref && i < 10; i++) {
    const next = discovery().doc.schemas[s.$ref];
    if (!next) return { type: 'any' };
    s = next;
  }
  return s;
}

function checkValue(value: unknown, schema: Schema, at: string, problems: string[], methodId: string | undefined): void {
  const s = resolve(schema);
  if (methodId && s.readOnly && !isEmpty(value)) problems.push(`${at} is output-only and must not be sent`);
  switch (s.type) {
    case 'object': {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return void problems.push(`${at} must be an object`);
      const obj = value as Record<string, unknown>;
      for (const [key, v] of Object.entries(obj)) {
        const prop = s.properties?.[key];
        if (prop) checkValue(v, prop, `${at}.${key}`, problems, methodId);
        else if (s.additionalProperties) checkValue(v, s.additionalProperties, `${at}[${JSON.stringify(key)}]`, problems, methodId);
        else problems.push(`${at}.${key} is not a property of ${s.id ?? 'this object'}`);
      }
      if (methodId) {
        for (const [key, prop] of Object.entries(s.properties ?? {})) {
          if (prop.annotations?.required?.includes(methodId) && obj[key] === undefined) problems.push(`${at}.${key} is required by ${methodId}`);
        }
      }
      return;
    }
    case 'array':
      if (!Array.isArray(value)) return void problems.push(`${at} must be an array`);
      value.forEach((v, i) => checkValue(v, s.items ?? { type: 'any' }, `${at}[${i}]`, problems, methodId));
      return;
    case 'string': {
      if (typeof value !== 'string') return void problems.push(`${at} must be a string${s.format ? ` (${s.format})` : ''}, not ${typeof value}`);
      if ((s.format === 'int64' || s.format === 'uint64') && !/^-?\d+$/.test(value)) problems.push(`${at} "${value}" is not a ${s.format}`);
      if (s.enum && !s.enum.includes(value)) problems.push(`${at} "${value}" is not one of its enum values`);
      if (s.pattern && !new RegExp(`^(?:${s.pattern})$`).test(value)) problems.push(`${at} "${value}" does not match ${s.pattern}`);
      return;
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) problems.push(`${at} must be an integer`);
      return;
    case 'number':
      if (typeof value !== 'number') problems.push(`${at} must be a number`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${at} must be a boolean`);
      return;
    default:
      return;
  }
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

/** Problems with an error body: Google's `{ error: { code, message, errors: [{ message, domain, reason }], status } }`. */
export function checkErrorBody(status: number, body: unknown): string[] {
  const e = (body as { error?: { code?: unknown; message?: unknown; errors?: unknown; status?: unknown } } | undefined)?.error;
  if (!e) return ['error body has no "error" object'];
  const problems: string[] = [];
  if (e.code !== status) problems.push(`error.code ${String(e.code)} is not the HTTP status ${status}`);
  if (typeof e.message !== 'string') problems.push('error.message is not a string');
  if (typeof e.status !== 'string') problems.push('error.status is not a string');
  const errors = e.errors as Array<{ message?: unknown; domain?: unknown; reason?: unknown }> | undefined;
  if (!Array.isArray(errors) || errors.length === 0) problems.push('error.errors is not a non-empty array');
  else for (const x of errors) if (typeof x.reason !== 'string' || typeof x.domain !== 'string' || typeof x.message !== 'string') problems.push('error.errors[] needs message, domain and reason');
  return problems;
}
