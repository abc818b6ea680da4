/**
 * The body half of a fake's request check, for APIs that take JSON: an endpoint with a body
 * schema needs `Content-Type: application/json` and a body its (ajv) schema accepts; one without
 * takes no body at all.
 */
import type { ValidateFunction } from 'ajv';
import type { FakeRequest } from './fake-cloud-server.js';

/** Problems with `req`'s body against `schema` (undefined: the endpoint takes no body). At most 6 schema errors. */
export function checkJsonBody(req: FakeRequest, schema: ValidateFunction | undefined): string[] {
  const problems: string[] = [];
  if (schema) {
    const type = String(req.headers['content-type'] ?? '');
    if (!type.includes('application/json')) problems.push(`content-type ${type || '(none)'} is not application/json`);
    if (req.body === undefined) problems.push('a JSON body is required');
    else if (!schema(req.body)) {
      for (const e of (schema.errors ?? []).slice(0, 6)) problems.push(`body${e.instancePath} ${e.message ?? 'is invalid'}`);
    }
  } else if (req.rawBody.length > 0) {
    problems.push('a body was sent, but the endpoint takes none');
  }
  return problems;
}
