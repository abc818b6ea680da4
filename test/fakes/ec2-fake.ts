/**
 * A stateful fake of the EC2 API (the calls inletsctl makes), on 127.0.0.1, for the real
 * `@aws-sdk/client-ec2` pointed at it with its endpoint override.
 *
 * - Wire: EC2's query protocol. Every request is decoded and checked against the botocore model
 *   in ../shared/cloud-specs/aws-ec2/ (operation, parameters and their serialization, required
 *   members, scalar types and enums) and every answer is written from the model as EC2's XML; any
 *   mismatch is recorded in `mismatches`, and tests fail on one. Requests must be SigV4-signed
 *   (checked in ec2-front.ts, fully when the fake is given credentials); the signing region picks
 *   the region whose resources a call sees.
 * - Errors in EC2's format and status: RequestLimitExceeded (503) for the rate-limit fault,
 *   InternalError (500), AuthFailure (401), and the 400s of each call (ec2-world.ts).
 * - State and lifecycle: ec2-world.ts. Running instances boot their user-data (gzip'd
 *   cloud-config, as inletsctl sends) on a loopback address reported as the public IP.
 */
import { randomUUID } from 'node:crypto';
import { FakeCloudServer, type FakeCloudOptions, type FakeReply, type FakeRequest, type Holdings } from './fake-cloud-server.js';
import { InstanceBooter, allocateLoopbackAddress, type InstanceBooterOptions } from './instance-booter.js';
import { Ec2Front, SIGNED_TOKEN } from './ec2-front.js';
import { decodeRequest, encodeResponse, errorXml, type DecodedRequest } from './ec2-model.js';
import { Ec2Fault } from './ec2-filters.js';
import type { FakeAwsCredentials } from './ec2-sigv4.js';
import { Ec2World } from './ec2-world.js';

export interface Ec2FakeOptions extends Omit<FakeCloudOptions, 'acceptToken'>, InstanceBooterOptions {
  /** Observations before a pending instance runs. Default 2. */
  activeAfterPolls?: number;
  /** Observations before a shutting-down instance is terminated. Default 1. */
  terminateAfterPolls?: number;
  /** Largest page served, whatever MaxResults asks. Default 1000. */
  maxPerPage?: number;
  /** Instances (and a security group) that exist before the test in `foreignRegion`. Default 0. */
  foreign?: number;
  /** Region of the foreign resources. Default eu-west-1. */
  foreignRegion?: string;
  /** DescribeInstances by id answers NotFound this many times after a launch. Default 0. */
  lagPolls?: number;
  /** Accepted credentials; their signatures are verified. Default: any well-formed signature. */
  credentials?: FakeAwsCredentials[];
}

/** Signature failures that are a client's mistake in form (a spec mismatch), not wrong credentials. */
const EXPECTED_AUTH_FAILURES = new Set(['unknown access key', 'signature does not match', 'missing or wrong session token']);

export class Ec2Fake extends FakeCloudServer {
  readonly world: Ec2World;
  private readonly front: Ec2Front;
  private readonly booter: InstanceBooter;
  private readonly decoded = new WeakMap<FakeRequest, DecodedRequest>();
  private readonly replyProblems = new WeakMap<FakeRequest, string[]>();
  private readonly foreignCount: number;
  private readonly foreignRegion: string;

  constructor(options: Ec2FakeOptions = {}) {
    super({ acceptToken: SIGNED_TOKEN });
    this.booter = new InstanceBooter(options, (m) => this.problems.push(m));
    this.world = new Ec2World(
      {
        activeAfterPolls: options.activeAfterPolls ?? 2,
        terminateAfterPolls: options.terminateAfterPolls ?? 1,
        maxPerPage: options.maxPerPage ?? 1000,
        lagPolls: options.lagPolls ?? 0,
      },
      {
        started: (i) => i.ip && this.booter.boot(i.id, i.userData, i.ip),
        stopped: (i) => void this.booter.stop(i.id),
      },
      allocateLoopbackAddress,
    );
    this.front = new Ec2Front(() => this.origin, options.credentials ?? []);
    this.foreignCount = options.foreign ?? 0;
    this.foreignRegion = options.foreignRegion ?? 'eu-west-1';
    if (this.foreignCount > 0) this.world.addForeign(this.foreignRegion, this.foreignCount);
  }

  /** The endpoint for the SDK: the SigV4/XML front, not the core. */
  override get url(): string {
    return this.front.url;
  }

  override async start(): Promise<string> {
    // The front first: the core's start() reads `url`, which is the front's.
    await this.front.start();
    await super.start();
    return this.url;
  }

  override async close(): Promise<void> {
    await this.front.close();
    await super.close();
  }

  holdings(): Holdings {
    const own = [...this.world.instances.values()].filter((i) => !i.foreign);
    const foreignInstances = [...this.world.instances.values()].filter((i) => i.foreign && i.state === 'running').length;
    const foreignGroups = [...this.world.groups.values()].filter((g) => g.foreign && !g.isDefault).length;
    return {
      instances: own.filter((i) => i.state !== 'terminated').length,
      securityGroups: [...this.world.groups.values()].filter((g) => !g.foreign).length,
      volumes: own.filter((i) => !i.volume.deleted).length,
      networkInterfaces: own.filter((i) => !i.eni.deleted).length,
      running: this.booter.count(),
      foreignInstancesMissing: this.foreignCount - foreignInstances,
      foreignGroupsMissing: (this.foreignCount > 0 ? 1 : 0) - foreignGroups,
    };
  }

  /**
   * A running instance as another inletsctl made it (see FakeEntry.seedHost), in eu-west-1 (the
   * provider's default region): tagged `Name`, our marks, and the tunnel id only when given.
   */
  seedInstance(host: { name: string; tunnelId?: string }, region = 'eu-west-1'): string {
    const marks: Record<string, string> = { inletsctl: 'true', 'managed-by': 'inletsctl', 'inletsctl-name': host.name, ...(host.tunnelId ? { 'inletsctl-tunnel': host.tunnelId } : {}) };
    return this.world.seedInstance(region, [{ Key: 'Name', Value: host.name }, ...Object.entries(marks).map(([Key, Value]) => ({ Key, Value }))]);
  }

  neverActive(name?: string): void {
    if (name === undefined) this.world.neverActiveAll = true;
    else this.world.neverActive.add(name);
  }

  protected async shutdown(): Promise<void> {
    await this.booter.stopAll();
  }

  protected operationOf(req: FakeRequest): string | undefined {
    return this.decode(req).action;
  }

  protected checkRequest(req: FakeRequest): string[] {
    const problems = [...this.decode(req).problems];
    if (req.method !== 'POST' || req.pathname !== '/') problems.push(`EC2 requests are POST / (got ${req.method} ${req.pathname})`);
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) problems.push('the body is not application/x-www-form-urlencoded');
    const authProblem = req.headers['x-fake-ec2-auth-problem'];
    if (typeof authProblem === 'string' && !EXPECTED_AUTH_FAILURES.has(authProblem)) problems.push(`signature: ${authProblem}`);
    return problems;
  }

  protected checkReply(req: FakeRequest): string[] {
    return this.replyProblems.get(req) ?? [];
  }

  protected errorReply(status: number, code: string, message: string): FakeReply {
    if (status === 429) return this.ec2Error(503, 'RequestLimitExceeded', 'Request limit exceeded.');
    if (status === 500) return this.ec2Error(500, 'InternalError', 'An internal error has occurred');
    if (status === 401) return this.ec2Error(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials');
    return this.ec2Error(status, code, message);
  }

  /** EC2 sends no rate-limit headers (throttling is RequestLimitExceeded only). */
  protected rateLimitHeaders(): Record<string, string> {
    return {};
  }

  protected handle(req: FakeRequest, op: string): FakeReply {
    const { input } = this.decode(req);
    const region = String(req.headers['x-fake-ec2-region'] ?? '');
    const requestId = randomUUID();
    try {
      const output = this.world.handle(region, op, input);
      const { xml, problems } = encodeResponse(op, output, requestId);
      this.replyProblems.set(req, problems);
      return { status: 200, body: { xml }, headers: { 'x-amzn-requestid': requestId } };
    } catch (err) {
      if (err instanceof Ec2Fault) return this.ec2Error(err.status, err.code, err.message);
      throw err;
    }
  }

  private ec2Error(status: number, code: string, message: string): FakeReply {
    const requestId = randomUUID();
    return { status, body: { xml: errorXml(code, message, requestId) }, headers: { 'x-amzn-requestid': requestId } };
  }

  private decode(req: FakeRequest): DecodedRequest {
    let d = this.decoded.get(req);
    if (!d) {
      d = decodeRequest(new URLSearchParams(req.rawBody));
      this.decoded.set(req, d);
    }
    return d;
  }
}
