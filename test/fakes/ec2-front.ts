/**
 * The EC2 fake's front door: the shared fake core (fake-cloud-server.ts) speaks bearer tokens and
 * JSON, EC2 speaks SigV4 and XML. This small proxy on 127.0.0.1 sits between the SDK and the core:
 *
 * - it checks each request's SigV4 signature (ec2-sigv4.ts) and passes the result on as a bearer
 *   token the core accepts or refuses (`sigv4-ok` / `sigv4-refused`), with the region and the
 *   reason in `x-fake-ec2-*` headers;
 * - the core answers `{"xml": "…"}`; the proxy sends that XML with EC2's content type;
 * - faults stay faithful: a connection the core drops is dropped, a call the core holds is held
 *   (and released when the client gives up), so fault injection works unchanged.
 * Anything else (the core's `/__fake/` admin API) passes through as it is.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { verifySigV4, type FakeAwsCredentials } from './ec2-sigv4.js';

/** The token the core is told to accept (FakeCloudOptions.acceptToken). */
export const SIGNED_TOKEN = 'sigv4-ok';

export class Ec2Front {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private address?: string;

  /**
   * @param coreOrigin the core's origin, e.g. http://127.0.0.1:1234
   * @param credentials accepted keys (empty: any well-formed signature)
   */
  constructor(
    private readonly coreOrigin: () => string,
    private readonly credentials: FakeAwsCredentials[],
  ) {}

  get url(): string {
    if (!this.address) throw new Error('front not started');
    return this.address;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.forward(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    this.address = `http://127.0.0.1:${addr.port}`;
    return this.address;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && k !== 'host' && k !== 'connection') headers[k] = v;
    if (!(req.url ?? '').startsWith('/__fake/')) {
      const sig = verifySigV4(req.method ?? 'GET', req.url ?? '/', req.headers, body.toString('utf8'), this.credentials);
      headers.authorization = `Bearer ${sig.ok ? SIGNED_TOKEN : 'sigv4-refused'}`;
      if (sig.region) headers['x-fake-ec2-region'] = sig.region;
      if (!sig.ok) headers['x-fake-ec2-auth-problem'] = sig.reason;
    }
    const upstream = request(`${this.coreOrigin()}${req.url ?? '/'}`, { method: req.method, headers });
    // The client gave up (its timeout): stop waiting for the core too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on('error', () => res.socket?.destroy());
    upstream.on('response', (answer) => void this.relay(answer, res));
    upstream.end(body);
  }

  private async relay(answer: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const c of answer) chunks.push(c as Buffer);
    } catch {
      res.socket?.destroy();
      return;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let xml: string | undefined;
    try {
      const parsed = JSON.parse(text) as { xml?: unknown };
      if (typeof parsed.xml === 'string') xml = parsed.xml;
    } catch {
      xml = undefined;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(answer.headers)) {
      if (v !== undefined && !['content-length', 'content-type', 'connection', 'keep-alive', 'transfer-encoding', 'date'].includes(k)) headers[k] = v;
    }
    if (xml === undefined) {
      res.writeHead(answer.statusCode ?? 502, { ...headers, ...(answer.headers['content-type'] ? { 'content-type': answer.headers['content-type'] } : {}) });
      res.end(text);
      return;
    }
    res.writeHead(answer.statusCode ?? 200, { ...headers, 'content-type': 'text/xml;charset=UTF-8', server: 'AmazonEC2' });
    res.end(xml);
  }
}
