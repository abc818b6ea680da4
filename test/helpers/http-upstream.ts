/** HTTP upstreams and requests for the HTTP-mode tests: real node:http servers on loopback. */
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type RequestOptions, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { track } from './engine-harness.js';

/**
 * An upstream that answers each request with JSON describing it (name, method, url, headers, the
 * body's length and sha256), or runs `special` first when given and it returns true.
 */
export async function describingUpstream(name: string, special?: (req: IncomingMessage, res: ServerResponse) => boolean, tls?: { cert: string; key: string }): Promise<{ server: Server; port: number }> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (special?.(req, res)) return;
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (b: Buffer) => (hash.update(b), (bytes += b.length)));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
      res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, bytes, sha256: hash.digest('hex') }));
    });
  };
  const server = tls ? createHttpsServer(tls, handler) : createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  track(() => new Promise((r) => (server.close(r), server.closeAllConnections())));
  return { server, port: (server.address() as { port: number }).port };
}

export interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One request to 127.0.0.1:`port` with `host` as its Host header; the whole answer. */
export function get(port: number, host: string, path = '/', opts: RequestOptions & { body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ...opts, headers: { host, ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}
