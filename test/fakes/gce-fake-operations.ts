/**
 * Long-running operations of the GCE fake: each insert or delete answers one, which goes
 * PENDING → RUNNING → DONE as it (or its resource) is looked at, then runs the change it stands
 * for (`onDone`). A failure injected for a kind of operation makes the next one end DONE with
 * `error.errors[]` and an HTTP status, as Compute Engine reports quota and capacity failures.
 */
import { API_ROOT, timestamp, type OperationRecord } from './gce-fake-json.js';

export type OperationKind = 'instances.insert' | 'firewalls.insert' | 'addresses.insert' | 'instances.delete' | 'firewalls.delete' | 'addresses.delete';

/** Looks before an operation is DONE. */
const LOOKS_TO_FINISH = 2;

export class FakeOperations {
  private readonly byName = new Map<string, OperationRecord>();
  private readonly injected: Array<{ kind: OperationKind; code: string; message: string }> = [];

  constructor(
    private readonly project: string,
    private readonly newId: () => string,
  ) {}

  /** The next operation of `kind` fails with this error (and its resource change does not happen). */
  failNext(kind: OperationKind, code: string, message: string): void {
    this.injected.push({ kind, code, message });
  }

  /** A new operation on `target` (a path under the project); `error` is set when it is to fail. */
  start(kind: OperationKind, scope: OperationRecord['scope'], target: string, targetId: string): OperationRecord {
    const id = this.newId();
    const i = this.injected.findIndex((f) => f.kind === kind);
    const failure = i === -1 ? undefined : this.injected.splice(i, 1)[0];
    const quota = failure?.code.includes('QUOTA') ?? false;
    const op: OperationRecord = {
      id, name: `operation-${Date.now()}-${id.slice(-8)}`, scope, operationType: kind.endsWith('insert') ? 'insert' : 'delete',
      targetLink: `${API_ROOT}/projects/${this.project}/${target}`, targetId, status: 'PENDING', observed: 0, insertTime: timestamp(),
      error: failure ? { code: failure.code, message: failure.message, httpStatus: quota ? 403 : 503, httpMessage: quota ? 'FORBIDDEN' : 'SERVICE UNAVAILABLE' } : undefined,
    };
    this.byName.set(op.name, op);
    return op;
  }

  get(name: string): OperationRecord | undefined {
    return this.byName.get(name);
  }

  /** One look at an operation. */
  tick(op: OperationRecord): void {
    if (op.status === 'DONE') return;
    op.observed++;
    if (op.observed >= LOOKS_TO_FINISH) this.finish(op);
    else op.status = 'RUNNING';
  }

  finish(op: OperationRecord): void {
    if (op.status === 'DONE') return;
    op.status = 'DONE';
    op.endTime = timestamp();
    const done = op.onDone;
    op.onDone = undefined;
    done?.();
  }
}
