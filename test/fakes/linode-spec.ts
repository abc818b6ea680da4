/**
 * Linode's OpenAPI description (the subset in ../shared/cloud-specs/linode/), made readable as
 * JSON Schema before the shared validator sees it.
 *
 * Upstream composes request and response bodies with `allOf` in a way that, read literally as JSON
 * Schema, no valid request can pass (found while building the fake; the file itself is left as it is):
 * - POST /linode/instances: `allOf[0]` says `additionalProperties: false` and lists only the
 *   common create/rebuild fields, while `allOf[1]` adds `label`, `region`, `type`, `tags`,
 *   `firewall_id`…, so allOf[0] forbids every field allOf[1] allows;
 * - POST /networking/firewalls: an overlay beside the `allOf` redefines `rules` with
 *   `additionalProperties: false` and only `inbound`/`outbound`, yet requires `inbound_policy` and
 *   `outbound_policy`; and it puts `required: [action, addresses, protocol]` on the rule arrays
 *   themselves, where JSON Schema ignores it (meant for their items).
 * The evident intent is object composition, so each `allOf` (with its siblings) is merged into one
 * schema: properties merged by name, `required` united, `additionalProperties: false` kept over the
 * union, and object keywords written on an array moved to its items. Nothing else changes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Node = Record<string, unknown>;

const isObject = (v: unknown): v is Node => !!v && typeof v === 'object' && !Array.isArray(v);

/** Merges schema `b` into schema `a` (composition: both apply to one object). */
export function mergeSchemas(a: Node, b: Node): Node {
  const out: Node = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (k === 'properties' && isObject(v)) {
      const props: Node = { ...(isObject(out.properties) ? out.properties : {}) };
      for (const [name, sub] of Object.entries(v)) props[name] = isObject(props[name]) && isObject(sub) ? mergeSchemas(props[name] as Node, sub) : sub;
      out.properties = props;
    } else if (k === 'required' && Array.isArray(v)) {
      out.required = [...new Set([...(Array.isArray(out.required) ? (out.required as string[]) : []), ...(v as string[])])];
    } else if (k === 'additionalProperties') {
      out.additionalProperties = out.additionalProperties === false || v === false ? false : (out.additionalProperties ?? v);
    } else if (k === 'items' && isObject(v)) {
      out.items = isObject(out.items) ? mergeSchemas(out.items, v) : v;
    } else if (!(k in out)) {
      out[k] = v;
    }
  }
  if (out.type === 'array' && (out.required !== undefined || out.properties !== undefined)) {
    const moved: Node = {};
    if (out.required !== undefined) moved.required = out.required;
    if (out.properties !== undefined) moved.properties = out.properties;
    delete out.required;
    delete out.properties;
    out.items = isObject(out.items) ? mergeSchemas(out.items, moved) : moved;
  }
  return out;
}

/** Every `allOf` in `node` (depth first) merged with its siblings. */
export function mergeAllOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(mergeAllOf);
  if (!isObject(node)) return node;
  const walked: Node = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, mergeAllOf(v)]));
  if (!Array.isArray(walked.allOf) || !walked.allOf.every(isObject)) return walked;
  const { allOf, ...rest } = walked;
  return (allOf as Node[]).reduce((acc, member) => mergeSchemas(acc, member), rest);
}

/** The merged description, written once per content to the temp directory; returns its path. */
export function mergedLinodeSpec(file: string): string {
  const text = readFileSync(file, 'utf8');
  const key = createHash('sha256').update(text).update('merge-allof-1').digest('hex').slice(0, 24);
  const dir = join(tmpdir(), 'inletsctl-spec-cache');
  const out = join(dir, `linode-merged-${key}.json`);
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(mergeAllOf(JSON.parse(text))));
  renameSync(tmp, out);
  return out;
}
