/**
 * The provider contract: the only thing inletsctl knows about a cloud.
 *
 * Rules (see README "Adding a provider"):
 * - A provider never waits. `create` starts the work and returns; callers poll `status` through the
 *   shared poller (src/core/poller.ts), which owns backoff, Retry-After and timeouts. `delete` is a
 *   step: it does what it can now and answers 'pending' until everything is gone.
 * - Identity is the tunnel id, never the name. Every resource create makes carries the marks of
 *   providers/shared/marks.ts (tags, labels, or a description where a resource has neither): the
 *   shared `inletsctl` mark, the tunnel's name, its random tunnel id (see
 *   {@link CreateRequest.tunnelId}) and, with `--ttl`, its expiry. Deleting removes
 *   only what carries `ref.tunnelId`; a name is never used to find something to delete. Nothing is
 *   left behind: instance, firewall, IP, disk, NIC, group.
 * - `status` and `delete` are answered from the cloud's state alone (plus the ids in the HostRef,
 *   which the state file keeps). No provider keeps create progress in process memory: any process,
 *   given the HostRef, can read, finish or delete a half-made tunnel. Where a cloud needs several
 *   calls to build a VM, create makes them all before it returns, or the cloud runs them (Azure: one
 *   ARM deployment); `status` never creates or changes anything.
 * - Each cloud's own status words map to {@link HostStatus}.
 * - Errors are {@link ProviderError} with a code; never put a credential in a message.
 */
import type { ProviderError } from '../errors.js';

/** The one status vocabulary every provider maps its cloud's words onto. */
export type HostStatus = 'provisioning' | 'active' | 'deleting' | 'error';

/** What inletsctl needs to find a host again. `name` is always known; the rest may be. */
export interface HostRef {
  name: string;
  /**
   * The tunnel's random id (12 lowercase hex characters), made at plan time and carried by every
   * resource create makes. Absent only for hosts made by versions before v2 (name tag only): those
   * are deletable by instance id alone.
   */
  tunnelId?: string;
  id?: string;
  ip?: string;
  region?: string;
  /** Provider-owned data returned by create (ids of firewalls, IPs, groups…), kept in state. */
  data?: Record<string, string>;
}

export interface Host extends HostRef {
  id: string;
  status: HostStatus;
  /** The cloud's own status word, for `list` and error messages. */
  providerStatus?: string;
  createdAt?: string;
  /** The expiry read from the host's marks, when it has one. */
  expiresAt?: string;
}

export interface CreateRequest {
  /** Tunnel name; also the instance name and a tag/label value. Not an identity: see tunnelId. */
  name: string;
  /** The tunnel's random id; every resource made carries it (tag, label or description). */
  tunnelId: string;
  region: string;
  plan: string;
  image: string;
  zone?: string;
  /** Rendered user-data in the format the provider asked for (see ProviderDescription.userData). */
  userData: Buffer;
  /** The control port (8123 unless changed) and the data ports the user asked to open. */
  controlPort: number;
  ports: number[];
  /**
   * Every TCP port the firewall must open: the control port first, then the data ports, sorted and
   * without duplicates. Computed once in core; providers open exactly these.
   */
  openPorts: number[];
  /**
   * ISO 8601 time after which the tunnel may be pruned (`create --ttl`); providers record it as a
   * mark (providers/shared/marks.ts) so `prune` can find expired hosts at the cloud.
   */
  expiresAt?: string;
  /** Create a cloud firewall/security group, when the provider supports an optional one. */
  firewall: boolean;
}

export interface Provider {
  /**
   * Starts creating; returns as soon as the cloud accepted (never waits for the VM). When a call
   * never reached the cloud (connection refused, DNS failure), keep the system error in the
   * `cause` chain: core then knows nothing was made (src/core/reachability.ts). Once something was
   * made, a later failure must NOT carry such a cause (see providers/shared/rest-client.ts
   * `notRetryable`), or core would skip the clean-up.
   */
  create(req: CreateRequest): Promise<Host>;
  /**
   * The host's state, read from the cloud alone (by `ref.id`, else by `ref.tunnelId`). Changes
   * nothing. The returned Host carries the tunnelId and name read from the cloud's marks.
   * @throws ProviderError NOT_FOUND when the cloud has no such host.
   */
  status(ref: HostRef): Promise<Host>;
  /**
   * One step of deletion; idempotent; 'done' when nothing of `ref` is left. Removes only resources
   * carrying `ref.tunnelId`, plus the instance `ref.id` when given (which must carry our shared mark:
   * refuse an untagged id with ProviderError FORBIDDEN). Never finds anything by name.
   */
  delete(ref: HostRef): Promise<'done' | 'pending'>;
  /** Hosts this tool created (by the shared mark), with name and tunnelId read from their marks. */
  list(): Promise<Host[]>;
}

export interface CredentialSpec {
  /** Flags read for the secret, for example ['access-token', 'access-token-file']. */
  flags: string[];
  /** Environment variables read for the first secret flag, in order of precedence. */
  env: string[];
  /**
   * Environment variables for the other secret flags, by flag name (for example a password that
   * goes with a user name): read when neither the flag nor its `-file` form is given.
   */
  envOf?: Record<string, string[]>;
  /** One line: how to get this credential in the cloud's console. */
  howTo: string;
  /**
   * Whether the provider cannot work without a credential. When true and none of the flags, `env`
   * or `alternatives` supplies one, inletsctl asks on a terminal and otherwise stops with a usage
   * error (exit 2) before any work.
   */
  required: boolean;
  /**
   * Secret flags any one of which is enough for `required` (a token, or the password that goes
   * with a user name). Default: the first secret flag only (the others complete it, like EC2's
   * secret key).
   */
  sufficient?: string[];
  /**
   * Other places the cloud's own SDK finds credentials (a credential chain), checked only for
   * presence so a missing credential is a usage error before any work, not a failed create:
   * environment variables (any one set counts) and files (`~/` is the home directory; any one
   * that exists counts), for example `~/.aws/credentials` or the gcloud ADC file.
   */
  alternatives?: { env?: string[]; files?: string[] };
}

export interface ExtraFlag {
  describe: string;
  type: 'string' | 'number' | 'boolean';
  default?: string | number | boolean;
  /** Environment variable that supplies the flag when it is not given. */
  env?: string;
  /** `create` needs it (from the flag, `env` or the default): a usage error before any work without it. */
  requiredToCreate?: boolean;
}

export interface ProviderDescription {
  /** The `--provider` value. */
  name: string;
  title: string;
  defaults: {
    region: string;
    plan: string;
    image: string;
    zone?: string;
    /** Why these defaults (cheapest plan, Debian image…), with a link. */
    reason: string;
    /** Estimated monthly cost of the default plan, in US dollars; null when there is no list price (a private OpenStack cloud). */
    monthlyUsd: number | null;
  };
  /**
   * Regions offered when prompting on a TTY; the first is the default. When not empty, `create
   * --region` must be one of them (a usage error otherwise, before any work): list every region
   * the provider supports.
   */
  regions: string[];
  /**
   * Whether `--zone` means something for this provider. Default: whether `defaults.zone` is set.
   * A provider that derives its zone from the region (GCE: `<region>-b`) sets this to true.
   */
  zones?: boolean;
  credentials: CredentialSpec;
  /** Provider-specific flags (`--vpc-id`, `--subscription-id`…). */
  extraFlags: Record<string, ExtraFlag>;
  /** Environment variable overriding the API base URL (used by fakes and compatible endpoints). */
  apiUrlEnv?: string;
  userData: {
    /** The cloud's documented limit, in bytes of the raw (decoded) user-data. */
    limitBytes: number;
    /** 'cloud-config' for cloud-init images; 'script' for images that only run a startup script. */
    format: 'cloud-config' | 'script';
    /** Whether the API accepts binary user-data (so it may be gzip-compressed). */
    binary: boolean;
  };
  /** Whether create manages a firewall (always, optional with --firewall, or never). */
  firewall: 'always' | 'optional' | 'never';
  /**
   * False for providers that make no machine (they use one the user already has): region, plan and
   * image are then not asked for on a terminal, and the defaults are placeholders. Default true.
   */
  placement?: boolean;
}

/** What a provider is given when it is made. */
export interface ProviderContext {
  /** Secrets resolved from flags, files and environment, by credential flag name. */
  credentials: Record<string, string | undefined>;
  /** API base URL override, or undefined for the cloud's real endpoint. */
  apiUrl?: string;
  /** Values of the provider's extra flags. */
  options: Record<string, unknown>;
  /** Directory where a provider may keep files (the local provider keeps its processes there). */
  stateDir: string;
}

/** One entry of providers/index.ts: the description is cheap, the implementation loads lazily. */
export interface ProviderModule {
  description: ProviderDescription;
  load(): Promise<(ctx: ProviderContext) => Provider>;
}

export type { ProviderError };
