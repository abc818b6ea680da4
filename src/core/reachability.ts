/**
 * Whether a failed call can have reached the cloud at all. A request that was never sent (the
 * connection was refused, the host name does not resolve, the URL is not a URL) made nothing, so
 * there is nothing to clean up and no reason to wait: `create` forgets its record at once and
 * `list` warns in seconds. A timeout or a reset is NOT such a failure: the cloud may have acted.
 */

/** System error codes meaning the request never left this machine, or never reached a server. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'ERR_INVALID_URL', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/**
 * True when `err`, or any error in its `cause` chain (SDKs and `fetch` wrap the system error),
 * carries one of the codes above. Providers keep the system error as `cause` for this.
 */
export function cannotHaveReachedCloud(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e && typeof e === 'object'; depth++) {
    const x = e as { code?: unknown; errno?: unknown; cause?: unknown; errors?: unknown };
    if (typeof x.code === 'string' && NEVER_SENT.has(x.code)) return true;
    if (typeof x.errno === 'string' && NEVER_SENT.has(x.errno)) return true;
    // fetch refuses ports of the Fetch standard's block list (9, 25, 6000…) without sending anything.
    if (e instanceof Error && e.message === 'bad port') return true;
    // Happy eyeballs: an AggregateError holding one refusal per address.
    if (Array.isArray(x.errors) && x.errors.length > 0 && x.errors.every((inner) => cannotHaveReachedCloud(inner))) return true;
    e = x.cause;
  }
  return false;
}
