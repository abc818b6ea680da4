/**
 * The shared half of every fake cloud: an HTTP server on 127.0.0.1 (port 0), bearer-token checks,
 * rate-limit headers, a request log, spec checks on every exchange, fault injection and a small
 * admin API. Each cloud's fake supplies its routes, its error format and its resources.
 *
 * Faults (through {@link FakeCloudServer.inject} or `POST /__fake/faults`): the next matching call
 * fails once (or `times` times) with
 * - `rate-limit`: 429 in the cloud's format, with Retry-After and the cloud's rate-limit headers;
 * - `server-error`: 500 in the cloud's format;
 * - `hang`: no answer for `hangMs` (default 3 s; the client's timeout should fire first), then the
 *   connection is dropped, so a client with a long timeout of its own does not hold a test for it;
 * - `drop`: the connection is destroyed without an answer;
 * - `delay`: the call is answered normally after `delayMs` (to catch a client with a call in flight).
 * With `after: true`, a hang or drop happens AFTER the call took effect (the answer is lost).
 *
 * Admin API (not part of any cloud): `GET /__fake/state` (holdings, mismatches, problems, log),
 * `POST /__fake/faults` (a {@link Fault}), `POST /__fake/never-active` (`{ name? }`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type FaultKind = 'rate-limit' | 'server-error' | 'hang' | 'drop' | 'delay';
/** The failures of the fault matrix ('delay' is not a failure: it holds a call in flight). */
export const FAULT_KINDS: FaultKind[] = ['rate-limit', 'server-error', 'hang', 'drop'];

export interface Fault {
  kind: FaultKind;
  /** Operation name as the fake logs it (`droplets_create`, `servers.create`); any when absent. */
  op?: string;
  /** How many matching calls fail. Default 1. */
  times?: number;
  /** hang/drop after the call took effect. Default false. */
  after?: boolean;
  /** How long `delay` holds the call, in milliseconds. Default 2000. */
  delayMs?: number;
  /** Retry-After sent with `rate-limit`, in seconds; null sends none (only the cloud's own headers). Default 1. */
  retryAfterSeconds?: number | null;
  /** How long `hang` holds the call before dropping the connection, in milliseconds. Default 3000. */
  hangMs?: number;
  /**
   * Runs when the fault is taken, before the call is served (tests use it to change the cloud
   * between two calls of one CLI run, e.g. to add a host after create's name check).
   */
  onHit?: () => void | Promise<void>;
}

/** Default of {@link Fault.hangMs}. */
export const HANG_MS = 3000;

/** One exchange, as the log keeps it. */
export interface Exchange {
  op: string;
  method: string;
  path: string;
  status: number | 'hung' | 'dropped';
  fault?: FaultKind;
}

export interface FakeRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  rawBody: string;
  /** The parsed JSON body, or undefined when there was none (or it was not JSON). */
  body: unknown;
}

export interface FakeReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What a cloud fake holds, by resource kind (servers, firewalls, ips, volumes, tags…). */
export type Holdings = Record<string, number>;

export interface FakeCloudOptions {
  /** When set, only this bearer token is accepted; others get 401. */
  acceptToken?: string;
}

export abstract class FakeCloudServer {
  readonly log: Exchange[] = [];
  /** Spec mismatches found in requests and responses. Tests require none. */
  readonly mismatches: string[] = [];
  /** Anything else that went wrong inside the fake (boot failures…). Tests require none. */
  readonly problems: string[] = [];
  private readonly faults: Array<Fault & { left: number }> = [];
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<ServerResponse>();
  private server?: Server;
  private baseUrl?: string;
  /** Requests left in the current hour, for the rate-limit headers. */
  protected remaining = 5000;

  constructor(protected readonly fakeOptions: FakeCloudOptions = {}) {}

  /** The URL clients use (the cloud's base URL, including any path prefix such as `/v1`). */
  get url(): string {
    if (!this.baseUrl) throw new Error('fake not started');
    return this.baseUrl + this.pathPrefix();
  }

  /** The server's origin (admin API lives here). */
  get origin(): string {
    if (!this.baseUrl) throw new Error('fake not started');
    return this.baseUrl;
  }

  /** Path prefix of the API on this server: '' for DigitalOcean (paths carry /v2), '/v1' for Hetzner. */
  protected pathPrefix(): string {
    return '';
  }

  /** The operation name for logs and faults, or undefined for an unknown call. */
  protected abstract operationOf(req: FakeRequest): string | undefined;
  /** Serves one API call (faults and auth are already handled). */
  protected abstract handle(req: FakeRequest, op: string): Promise<FakeReply> | FakeReply;
  /** An error reply in the cloud's own format. */
  protected abstract errorReply(status: number, code: string, message: string): FakeReply;
  /** The cloud's rate-limit headers for a reply. */
  protected abstract rateLimitHeaders(limited: boolean): Record<string, string>;
  /** Checks a request against the cloud's spec or docs; returns problems. */
  protected abstract checkRequest(req: FakeRequest): string[];
  /** Checks a reply against the cloud's spec or docs; returns problems. */
  protected abstract checkReply(req: FakeRequest, reply: FakeReply): string[];
  /** What the fake holds now (resources created through the API). */
  abstract holdings(): Holdings;
  /** Makes instances (all, or the one named) stay provisioning forever. */
  abstract neverActive(name?: string): void;
  /** Stops whatever the fake runs (booted instances). */
  protected abstract shutdown(): Promise<void>;

  /** Adds a fault for the next matching call(s). */
  inject(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Forgets every fault not yet used up. */
  clearFaults(): void {
    this.faults.splice(0);
  }

  /** Faults not yet used up. */
  pendingFaults(): Fault[] {
    return this.faults.filter((f) => f.left > 0);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.serve(req, res));
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
    this.baseUrl = `http://127.0.0.1:${addr.port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await this.shutdown();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    if (url.pathname.startsWith('/__fake/')) return this.admin(url.pathname, req.method ?? 'GET', body, res);

    const prefix = this.pathPrefix();
    const pathname = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : url.pathname;
    const fr: FakeRequest = { method: req.method ?? 'GET', pathname, query: url.searchParams, headers: req.headers, rawBody, body };
    const op = this.operationOf(fr) ?? `unknown ${fr.method} ${pathname}`;
    const entry: Exchange = { op, method: fr.method, path: pathname, status: 0 };
    this.log.push(entry);
    for (const p of this.safely(() => this.checkRequest(fr))) this.mismatches.push(`${fr.method} ${pathname} request: ${p}`);

    const fault = this.takeFault(op);
    if (fault) entry.fault = fault.kind;
    if (fault?.onHit) {
      try {
        await fault.onHit();
      } catch (err) {
        this.problems.push(`a fault hook failed: ${(err as Error).stack ?? String(err)}`);
      }
    }
    if (fault && !fault.after && (fault.kind === 'hang' || fault.kind === 'drop')) return this.failConnection(fault, entry, res);

    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.delayMs ?? 2000));
    let reply: FakeReply;
    if (fault?.kind === 'rate-limit') {
      reply = this.errorReply(429, 'rate_limit', 'API rate limit exceeded (injected)');
      if (fault.retryAfterSeconds !== null) reply.headers = { ...reply.headers, 'retry-after': String(fault.retryAfterSeconds ?? 1) };
    } else if (fault?.kind === 'server-error') {
      reply = this.errorReply(500, 'server_error', 'internal server error (injected)');
    } else if (!this.authorized(fr)) {
      reply = this.errorReply(401, 'unauthorized', 'Unable to authenticate you');
    } else {
      try {
        reply = await this.handle(fr, op);
      } catch (err) {
        this.problems.push(`${op}: fake crashed: ${(err as Error).stack ?? String(err)}`);
        reply = this.errorReply(500, 'server_error', 'fake crashed');
      }
    }
    if (fault?.after) return this.failConnection(fault, entry, res);

    this.remaining = Math.max(this.remaining - 1, 0);
    const headers = { ...this.rateLimitHeaders(reply.status === 429), ...reply.headers };
    for (const p of this.safely(() => this.checkReply(fr, reply))) this.mismatches.push(`${fr.method} ${pathname} response ${reply.status}: ${p}`);
    entry.status = reply.status;
    const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
    res.writeHead(reply.status, { ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...headers });
    res.end(text);
  }

  /** Runs a check; a check that throws is itself a problem, never a crash of the fake. */
  private safely(check: () => string[]): string[] {
    try {
      return check();
    } catch (err) {
      this.problems.push(`a spec check failed: ${(err as Error).stack ?? String(err)}`);
      return [];
    }
  }

  private failConnection(fault: Fault, entry: Exchange, res: ServerResponse): void {
    if (fault.kind === 'drop') {
      entry.status = 'dropped';
      res.socket?.destroy();
      return;
    }
    entry.status = 'hung';
    this.hung.add(res);
    const timer = setTimeout(() => res.socket?.destroy(), fault.hangMs ?? HANG_MS);
    res.on('close', () => {
      clearTimeout(timer);
      this.hung.delete(res);
    });
  }

  private takeFault(op: string): Fault | undefined {
    const f = this.faults.find((x) => x.left > 0 && (x.op === undefined || x.op === op));
    if (f) f.left--;
    return f;
  }

  /** Whether the request carries an accepted credential (a bearer token unless a cloud overrides it). */
  protected authorized(req: FakeRequest): boolean {
    const m = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''));
    if (!m) return false;
    return this.fakeOptions.acceptToken === undefined || m[1] === this.fakeOptions.acceptToken;
  }

  private admin(path: string, method: string, body: unknown, res: ServerResponse): void {
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (path === '/__fake/state' && method === 'GET') {
      return send(200, { holdings: this.holdings(), mismatches: this.mismatches, problems: this.problems, log: this.log });
    }
    if (path === '/__fake/faults' && method === 'POST') {
      this.inject(body as Fault);
      return send(200, { ok: true });
    }
    if (path === '/__fake/never-active' && method === 'POST') {
      this.neverActive((body as { name?: string } | undefined)?.name);
      return send(200, { ok: true });
    }
    send(404, { error: 'unknown admin call' });
  }
}
