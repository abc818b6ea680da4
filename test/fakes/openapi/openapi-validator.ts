/**
 * Checks HTTP requests and responses against an OpenAPI 3.0 or 3.1 description: the path and
 * method are known, path and query parameters fit their schemas, the credential the operation's
 * security scheme names is sent (a bearer token, or an API key header such as X-Auth-Token), the JSON request body fits the request-body schema, and the response's status code
 * is documented and its body fits that response's schema. Fakes call it on every exchange and
 * keep the mismatches; tests fail when there are any.
 */
import { Ajv, type ValidateFunction, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { OpenApiSpec, type Direction, type JsonSchema, type Located } from './openapi-spec.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM interop.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** One disagreement between an exchange and the description. */
export interface Mismatch {
  side: 'request' | 'response';
  method: string;
  path: string;
  operationId?: string;
  message: string;
}

/** A documented operation matched by method and path. */
export interface MatchedOperation {
  operationId: string;
  method: string;
  template: string;
  pathParams: Record<string, string>;
  operation: Located<Record<string, unknown>>;
  pathItem: Located<Record<string, unknown>>;
}

interface PathEntry {
  template: string;
  regex: RegExp;
  names: string[];
  literalSegments: number;
  item: Located;
}

interface ParameterDef {
  name: string;
  in: string;
  required: boolean;
  schema: Located;
}

export interface RequestToCheck {
  method: string;
  pathname: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** Raw body text; empty when there was none. */
  body: string;
}

export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly paths: PathEntry[];
  private readonly compiled = new Map<string, ValidateFunction>();
  /** operationIds seen, for reports ("which operations were validated"). */
  readonly operationsSeen = new Set<string>();

  constructor(readonly spec: OpenApiSpec) {
    // unicodeRegExp off: the description's patterns use escapes such as `\:` that the `u` flag refuses.
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, logger: false, unicodeRegExp: false });
    addFormats(this.ajv);
    // OpenAPI's numeric and binary formats carry no extra constraint we check.
    for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password']) this.ajv.addFormat(f, true);
    const rawPaths = (spec.root().paths ?? {}) as Record<string, unknown>;
    this.paths = Object.entries(rawPaths).map(([template, item]) => {
      const names: string[] = [];
      const pattern = template
        .split('/')
        .map((seg) =>
          seg.replace(/\{([^}]+)\}|[^{]+/g, (m, name: string | undefined) => {
            if (name) {
              names.push(name);
              return '([^/]+)';
            }
            return m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          }),
        )
        .join('/');
      return {
        template,
        regex: new RegExp(`^${pattern}/?$`),
        names,
        literalSegments: template.split('/').filter((s) => s && !s.includes('{')).length,
        item: { file: spec.entry, node: item },
      };
    });
  }

  /** The documented operation for a method and path, preferring the most literal template. */
  match(method: string, pathname: string): MatchedOperation | undefined {
    const candidates = this.paths
      .map((p) => ({ p, m: p.regex.exec(pathname) }))
      .filter((c): c is { p: PathEntry; m: RegExpExecArray } => c.m !== null)
      .sort((a, b) => b.p.literalSegments - a.p.literalSegments);
    for (const { p, m } of candidates) {
      const item = this.spec.deref(p.item);
      const opRef = item.node[method.toLowerCase()];
      if (!opRef) continue;
      const operation = this.spec.deref({ file: item.file, node: opRef });
      const pathParams: Record<string, string> = {};
      p.names.forEach((n, i) => (pathParams[n] = decodeURIComponent(m[i + 1])));
      return {
        operationId: String(operation.node.operationId ?? `${method} ${p.template}`),
        method: method.toUpperCase(),
        template: p.template,
        pathParams,
        operation,
        pathItem: item,
      };
    }
    return undefined;
  }

  /** Methods documented for a path (for "method not allowed" messages). */
  methodsFor(pathname: string): string[] {
    const hit = this.paths.find((p) => p.regex.test(pathname));
    if (!hit) return [];
    const item = this.spec.deref(hit.item).node;
    return METHODS.filter((m) => m in item).map((m) => m.toUpperCase());
  }

  /** Checks a request; returns the matched operation (if any) and every problem found. */
  checkRequest(req: RequestToCheck): { op?: MatchedOperation; problems: string[] } {
    const op = this.match(req.method, req.pathname);
    if (!op) {
      const allowed = this.methodsFor(req.pathname);
      const why = allowed.length ? `method ${req.method} not documented (documented: ${allowed.join(', ')})` : 'path not documented';
      return { problems: [why] };
    }
    this.operationsSeen.add(op.operationId);
    const problems: string[] = [];
    const params = this.parameters(op);
    for (const p of params) {
      if (p.in === 'path') {
        const value = op.pathParams[p.name];
        problems.push(...this.checkValue(`path parameter ${p.name}`, p.schema, [value]));
      } else if (p.in === 'query') {
        const values = req.query.getAll(p.name);
        if (values.length === 0) {
          if (p.required) problems.push(`query parameter ${p.name} is required`);
          continue;
        }
        problems.push(...this.checkValue(`query parameter ${p.name}`, p.schema, values));
      }
    }
    for (const name of new Set(req.query.keys())) {
      if (!params.some((p) => p.in === 'query' && p.name === name)) problems.push(`query parameter ${name} is not documented`);
    }
    problems.push(...this.checkSecurity(op, req.headers));
    problems.push(...this.checkRequestBody(op, req));
    return { op, problems };
  }

  /** Checks a response to a matched operation: documented status, and its body's schema. */
  checkResponse(op: MatchedOperation, status: number, body: string, contentType: string | undefined): string[] {
    const responses = (op.operation.node.responses ?? {}) as Record<string, unknown>;
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in responses);
    if (!key) return [`status ${status} not documented (documented: ${Object.keys(responses).join(', ')})`];
    const response = this.spec.deref({ file: op.operation.file, node: responses[key] });
    const content = response.node.content as Record<string, { schema?: unknown }> | undefined;
    const json = content?.['application/json'];
    if (!json?.schema) {
      return body.length > 0 && !content ? [`status ${status} is documented without a body, but one was sent`] : [];
    }
    if (!contentType?.includes('application/json')) return [`response content-type ${contentType ?? '(none)'} is not application/json`];
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return ['response body is not JSON'];
    }
    const validate = this.compile(`${op.operationId} ${key} response`, { file: response.file, node: json.schema }, 'response');
    return validate(parsed) ? [] : formatErrors('response body', validate.errors);
  }

  private checkRequestBody(op: MatchedOperation, req: RequestToCheck): string[] {
    const requestBody = op.operation.node.requestBody;
    if (!requestBody) return req.body.length > 0 ? ['a body was sent, but the operation documents none'] : [];
    const rb = this.spec.deref({ file: op.operation.file, node: requestBody });
    if (req.body.length === 0) return rb.node.required === true ? ['request body is required'] : [];
    const content = (rb.node.content ?? {}) as Record<string, { schema?: unknown }>;
    const json = content['application/json'];
    if (!json) return [`request body must be one of ${Object.keys(content).join(', ')}`];
    const type = req.headers['content-type'];
    if (typeof type !== 'string' || !type.includes('application/json')) return [`request content-type ${type ?? '(none)'} is not application/json`];
    let parsed: unknown;
    try {
      parsed = JSON.parse(req.body);
    } catch {
      return ['request body is not JSON'];
    }
    if (!json.schema) return [];
    const validate = this.compile(`${op.operationId} request`, { file: rb.file, node: json.schema }, 'request');
    return validate(parsed) ? [] : formatErrors('request body', validate.errors);
  }

  private parameters(op: MatchedOperation): ParameterDef[] {
    const out = new Map<string, ParameterDef>();
    const lists: Located[] = [
      { file: op.pathItem.file, node: op.pathItem.node.parameters },
      { file: op.operation.file, node: op.operation.node.parameters },
    ];
    for (const list of lists) {
      if (!Array.isArray(list.node)) continue;
      for (const raw of list.node) {
        const p = this.spec.deref({ file: list.file, node: raw });
        const def: ParameterDef = {
          name: String(p.node.name),
          in: String(p.node.in),
          required: p.node.required === true,
          schema: { file: p.file, node: p.node.schema ?? {} },
        };
        out.set(`${def.in}:${def.name}`, def); // operation-level entries override path-level ones
      }
    }
    return [...out.values()];
  }

  /** The first security requirement's schemes: an `apiKey` in a header must be sent; else a bearer token. */
  private checkSecurity(op: MatchedOperation, headers: RequestToCheck['headers']): string[] {
    const security = (op.operation.node.security ?? this.spec.root().security) as Array<Record<string, unknown>> | undefined;
    if (!Array.isArray(security) || security.length === 0) return [];
    const schemes = ((this.spec.root().components as Record<string, unknown> | undefined)?.securitySchemes ?? {}) as Record<string, { type?: string; in?: string; name?: string }>;
    const problems: string[] = [];
    for (const name of Object.keys(security[0] ?? {})) {
      const scheme = schemes[name];
      if (scheme?.type === 'apiKey' && scheme.in === 'header' && scheme.name) {
        const value = headers[scheme.name.toLowerCase()];
        if (typeof value !== 'string' || value === '') problems.push(`no ${scheme.name} header`);
      } else if (scheme?.type !== 'apiKey') {
        const auth = headers.authorization;
        if (typeof auth !== 'string' || !/^Bearer \S+$/.test(auth)) problems.push('no bearer token in Authorization');
      }
    }
    return problems;
  }

  /** Validates string parameter values after coercing them to the schema's type. */
  private checkValue(what: string, schema: Located, values: string[]): string[] {
    const s = this.spec.deref(schema).node as Record<string, unknown>;
    const coerce = (v: string, type: unknown): unknown => {
      if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
      if (type === 'boolean' && (v === 'true' || v === 'false')) return v === 'true';
      return v;
    };
    let value: unknown;
    if (s.type === 'array') {
      const itemType = (this.spec.deref({ file: schema.file, node: s.items ?? {} }).node as Record<string, unknown>).type;
      value = values.flatMap((v) => v.split(',')).map((v) => coerce(v, itemType));
    } else {
      if (values.length > 1) return [`${what} given ${values.length} times`];
      value = coerce(values[0], s.type);
    }
    const validate = this.compile(`${schema.file} ${JSON.stringify(s)}`, schema, 'request');
    return validate(value) ? [] : formatErrors(what, validate.errors);
  }

  private compile(cacheKey: string, at: Located, direction: Direction): ValidateFunction {
    let fn = this.compiled.get(cacheKey);
    if (!fn) {
      const schema = this.spec.schema(at, direction);
      const root: JsonSchema = typeof schema === 'boolean' ? schema : { ...schema, definitions: this.spec.definitions };
      fn = this.ajv.compile(root);
      this.compiled.set(cacheKey, fn);
    }
    return fn;
  }
}

function formatErrors(what: string, errors: ErrorObject[] | null | undefined): string[] {
  // With oneOf/anyOf the list is long; the first few say enough.
  return (errors ?? []).slice(0, 6).map((e) => `${what}${e.instancePath || ''} ${e.message ?? 'is invalid'}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`);
}
