/**
 * Facts a command adds to an error for the `--json` error object (what was kept or cleaned up),
 * without changing the error itself: its class, code and message stay what the thrower made.
 */
const details = new WeakMap<object, Record<string, unknown>>();

/** Adds `extra` to what the entry point prints with `err` under `--json`; returns `err`. */
export function withDetails<T>(err: T, extra: Record<string, unknown>): T {
  if (err && typeof err === 'object') details.set(err, { ...details.get(err), ...extra });
  return err;
}

/** What was added to `err`, if anything. */
export function detailsOf(err: unknown): Record<string, unknown> | undefined {
  return err && typeof err === 'object' ? details.get(err) : undefined;
}
