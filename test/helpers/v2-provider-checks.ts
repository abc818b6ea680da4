/**
 * Checks of provider contract v2 shared by the SDK providers' tests (ec2, gce, azure): each takes
 * a factory that makes a NEW provider object (so nothing can be carried in process memory from
 * the create) and a request; the fakes decide the cloud's state.
 */
import { expect } from 'vitest';
import type { CreateRequest, HostRef, Provider } from '../../src/core/provider.js';
import { deleteUntilDone, rejection, waitActive } from '../providers/provider-steps.js';

/** The HostRef a state file holds when create was interrupted after its API call: no id yet. */
export function planRef(req: CreateRequest): HostRef {
  return { name: req.name, tunnelId: req.tunnelId, region: req.region };
}

/**
 * Create on one provider object, which is then dropped; a new one finishes it by polling status
 * alone (active with an IP), lists it with its tunnel id, and deletes it.
 * @returns the number of status polls the new provider needed
 */
export async function finishedByNewProvider(makeProvider: () => Provider, req: CreateRequest, attempts = 40): Promise<void> {
  await makeProvider().create(req); // its answer is thrown away with the object
  const other = makeProvider();
  const active = await waitActive(other, planRef(req), attempts);
  expect(active).toMatchObject({ name: req.name, tunnelId: req.tunnelId, status: 'active' });
  expect(active.ip).toBeTruthy();
  const listed = (await makeProvider().list()).find((h) => h.tunnelId === req.tunnelId);
  expect(listed).toMatchObject({ id: active.id, name: req.name, tunnelId: req.tunnelId });
  await deleteUntilDone(makeProvider(), planRef(req), attempts);
  await expect(makeProvider().status(planRef(req))).rejects.toMatchObject({ code: 'NOT_FOUND' });
}

/** Create on one provider object, dropped at once; a new one deletes the half-made tunnel. */
export async function deletedByNewProvider(makeProvider: () => Provider, req: CreateRequest, attempts = 40): Promise<void> {
  await makeProvider().create(req);
  await deleteUntilDone(makeProvider(), planRef(req), attempts);
  expect((await makeProvider().list()).some((h) => h.tunnelId === req.tunnelId)).toBe(false);
}

/**
 * Two tunnels of one name (two state files): deleting the first by its tunnel id leaves the
 * second, same-named host untouched; then the second goes too.
 */
export async function sameNameSurvives(makeProvider: () => Provider, first: CreateRequest, second: CreateRequest, attempts = 40): Promise<void> {
  expect(second.name).toBe(first.name);
  expect(second.tunnelId).not.toBe(first.tunnelId);
  const provider = makeProvider();
  await provider.create(first);
  const kept = await provider.create(second);
  await deleteUntilDone(provider, planRef(first), attempts);
  const left = (await provider.list()).filter((h) => h.name === first.name);
  expect(left.map((h) => h.tunnelId)).toEqual([second.tunnelId]);
  expect((await provider.status(planRef(second))).id).toBe(left[0].id);
  if (kept.id) expect(left[0].id).toBe(kept.id);
  await deleteUntilDone(provider, planRef(second), attempts);
}

/** delete of an id without our mark is refused with FORBIDDEN. */
export async function foreignIdForbidden(provider: Provider, ref: HostRef): Promise<void> {
  const err = await rejection(provider.delete(ref));
  expect(err).toMatchObject({ code: 'FORBIDDEN', retryable: false });
}
