/**
 * Loads an OpenAPI 3.0 (or 3.1) description that is split over many YAML files joined by relative `$ref`s
 * (as DigitalOcean publishes theirs), and turns the parts a fake needs into JSON Schema for ajv.
 *
 * Files are parsed lazily, on the first `$ref` that reaches them, so a fake pays only for the
 * operations it serves. Schemas are converted from OpenAPI's dialect (close to draft-04/07):
 * - `nullable: true` becomes `anyOf: [{type: 'null'}, …]`;
 * - boolean `exclusiveMinimum`/`exclusiveMaximum` (draft-04 style) become numeric;
 * - annotations (`example`, `x-*`, `discriminator`, `xml`, `externalDocs`, `deprecated`…) are dropped;
 * - `readOnly` properties are not required in requests, `writeOnly` ones not in responses.
 * Every `$ref` in a schema becomes `#/definitions/<key>`, one definition per referenced
 * (file, pointer, direction), so recursive models stay finite.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';

export type Direction = 'request' | 'response';
export type JsonSchema = Record<string, unknown> | boolean;

/** A node together with the file it came from (relative `$ref`s resolve against that file). */
export interface Located<T = unknown> {
  file: string;
  node: T;
}

/** Keywords kept as they are (after their sub-schemas, if any, are converted). */
const PLAIN_KEYWORDS = new Set([
  'type', 'enum', 'format', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'multipleOf',
  'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'required', 'default',
  'const', // OpenAPI 3.1 (JSON Schema 2020-12); its `type: [x, 'null']` arrays pass as they are
]);

/** Files above this size are parsed once per machine and kept as JSON (YAML parsing of 1.6 MB takes seconds). */
const CACHE_ABOVE_BYTES = 256 * 1024;

/**
 * Parses a YAML or JSON file; large ones go through a JSON copy in the temp directory, keyed by
 * path, size and mtime, written atomically (a stale or broken copy is parsed again).
 */
function loadCached(file: string): unknown {
  const st = statSync(file);
  if (st.size <= CACHE_ABOVE_BYTES) return parse(readFileSync(file, 'utf8'), { maxAliasCount: -1 });
  const dir = join(tmpdir(), 'inletsctl-spec-cache');
  const key = createHash('sha256').update(`${file}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 32);
  const cached = join(dir, `${key}.json`);
  try {
    return JSON.parse(readFileSync(cached, 'utf8'));
  } catch {
    const doc = parse(readFileSync(file, 'utf8'), { maxAliasCount: -1 });
    mkdirSync(dir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(doc));
    renameSync(tmp, cached);
    return doc;
  }
}

export class OpenApiSpec {
  readonly entry: string;
  private readonly files = new Map<string, unknown>();
  /** Converted schemas by definition key; shared by every validator built from this spec. */
  readonly definitions: Record<string, JsonSchema> = {};
  /** Definition key by exact "direction file#pointer". */
  private readonly keys = new Map<string, string>();

  constructor(entryFile: string) {
    this.entry = resolve(entryFile);
  }

  /** The parsed entry document. */
  root(): Record<string, unknown> {
    return this.load(this.entry) as Record<string, unknown>;
  }

  /** Parses (once) and returns a YAML or JSON file of the description. */
  load(file: string): unknown {
    let doc = this.files.get(file);
    if (doc === undefined) {
      doc = loadCached(file);
      this.files.set(file, doc);
    }
    return doc;
  }

  /** Number of files parsed so far (for diagnostics). */
  filesLoaded(): number {
    return this.files.size;
  }

  /** Resolves `ref` (`other.yml#/a/b`, `#/a/b` or `other.yml`) written in `fromFile`. */
  resolveRef(fromFile: string, ref: string): Located {
    const hash = ref.indexOf('#');
    const filePart = hash === -1 ? ref : ref.slice(0, hash);
    const pointer = hash === -1 ? '' : ref.slice(hash + 1);
    const file = filePart ? resolve(dirname(fromFile), filePart) : fromFile;
    let node = this.load(file);
    for (const raw of pointer.split('/').filter(Boolean)) {
      const token = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (node === null || typeof node !== 'object' || !(token in (node as object))) {
        throw new Error(`unresolvable $ref ${ref} from ${fromFile}`);
      }
      node = (node as Record<string, unknown>)[token];
    }
    return { file, node };
  }

  /** Follows `$ref`s (of non-schema objects: operations, parameters, responses) to the real node. */
  deref<T = Record<string, unknown>>(at: Located): Located<T> {
    let current = at;
    for (let hops = 0; hops < 32; hops++) {
      const node = current.node as Record<string, unknown> | null;
      if (!node || typeof node !== 'object' || typeof node.$ref !== 'string') return current as Located<T>;
      current = this.resolveRef(current.file, node.$ref);
    }
    throw new Error(`$ref chain too long at ${at.file}`);
  }

  /**
   * Converts the OpenAPI schema at `at` to JSON Schema for one direction. The result's `$ref`s
   * point into {@link definitions}; compile it together with them.
   */
  schema(at: Located, direction: Direction): JsonSchema {
    return this.convert(at.file, at.node, direction);
  }

  private convert(file: string, node: unknown, direction: Direction): JsonSchema {
    if (typeof node === 'boolean') return node;
    if (!node || typeof node !== 'object' || Array.isArray(node)) return {};
    const src = node as Record<string, unknown>;
    if (typeof src.$ref === 'string') return { $ref: `#/definitions/${this.define(file, src.$ref, direction)}` };

    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(src)) {
      if (PLAIN_KEYWORDS.has(key)) out[key] = value;
    }
    if (src.properties && typeof src.properties === 'object') {
      const props: Record<string, JsonSchema> = {};
      const skipRequired = new Set<string>();
      for (const [name, sub] of Object.entries(src.properties as Record<string, unknown>)) {
        props[name] = this.convert(file, sub, direction);
        const flags = this.deref({ file, node: sub }).node as Record<string, unknown> | undefined;
        if (direction === 'request' && flags?.readOnly === true) skipRequired.add(name);
        if (direction === 'response' && flags?.writeOnly === true) skipRequired.add(name);
      }
      out.properties = props;
      if (Array.isArray(out.required) && skipRequired.size > 0) {
        out.required = (out.required as string[]).filter((n) => !skipRequired.has(n));
      }
    }
    if (src.patternProperties && typeof src.patternProperties === 'object') {
      out.patternProperties = Object.fromEntries(Object.entries(src.patternProperties as Record<string, unknown>).map(([k, v]) => [k, this.convert(file, v, direction)]));
    }
    if ('additionalProperties' in src) out.additionalProperties = this.convert(file, src.additionalProperties, direction);
    if ('items' in src) out.items = this.convert(file, src.items, direction);
    if ('not' in src) out.not = this.convert(file, src.not, direction);
    for (const k of ['allOf', 'anyOf', 'oneOf'] as const) {
      if (Array.isArray(src[k])) out[k] = (src[k] as unknown[]).map((s) => this.convert(file, s, direction));
    }
    for (const [bound, limit] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
      if (src[bound] === true && typeof src[limit] === 'number') {
        out[bound] = src[limit];
        delete out[limit];
      } else if (typeof src[bound] === 'number') {
        out[bound] = src[bound];
      }
    }
    if (src.nullable === true) return { anyOf: [{ type: 'null' }, out] };
    return out;
  }

  /** Registers the definition a `$ref` points at (converting it once) and returns its key. */
  private define(fromFile: string, ref: string, direction: Direction): string {
    const target = this.resolveRef(fromFile, ref);
    const pointer = ref.includes('#') ? ref.slice(ref.indexOf('#') + 1) : '';
    const exact = `${direction} ${target.file}#${pointer}`;
    let key = this.keys.get(exact);
    if (key === undefined) {
      key = `d${this.keys.size + 1}`;
      this.keys.set(exact, key);
      this.definitions[key] = {}; // placeholder first: recursive models refer back to it
      this.definitions[key] = this.convert(target.file, target.node, direction);
    }
    return key;
  }
}
