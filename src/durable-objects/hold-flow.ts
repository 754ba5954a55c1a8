import type { ReserveRequest } from "../domain/ledger";
import type { Bindings } from "../env";
import { log } from "../lib/log";
import { ledgerStub } from "../lib/stubs";
import type { HoldClose, HoldRequest, HoldResult } from "./holds";
import { RideAlong } from "./ride-along";
import { STALE_CALL_MS } from "./tenant-api";
import { TenantBatch } from "./tenant-batch";

/** This isolate's holds (chat completions) and their closings, gathered per tenant: one call to its object for many. */
const reserves = new TenantBatch<HoldRequest, HoldResult>(STALE_CALL_MS);
const closes = new TenantBatch<HoldClose, boolean>();
/** Closings waiting to ride in the tenant's next hold call (one call for both); one that finds none within 50 ms goes on its own. */
const riding = new RideAlong<HoldClose>(50);

/**
 * Holds the most a request can cost before it goes to RunAPI (SPEC §8), in the one call to the tenant's object on
 * its critical path; concurrent requests of one tenant share that call (each still its own transaction: the budget
 * stays a hard cap). Rejects when the object did not answer: the caller then holds nothing and forwards nothing.
 */
export async function holdGathered(env: Bindings, tenantId: string, req: ReserveRequest, waitUntil: (p: Promise<unknown>) => void): Promise<HoldResult> {
  const tenant = ledgerStub(env, tenantId);
  return reserves.call(tenantId, { req }, (items) => {
    // The call carries other requests' holds too, and closings of ended ones: it must end even if this request's client goes away.
    const carried = riding.take(tenantId);
    const call = tenant.reserveMany(items, Date.now(), carried);
    waitUntil(call.catch(() => (carried.length ? sendCloses(env, tenantId, carried) : undefined)));
    return call;
  });
}

/**
 * Settles or releases a hold once its request has ended, gathered with the tenant's other closings; the client
 * does not wait for it. A closing whose call fails is left to the object's alarm, which charges a hold still open
 * at its deadline what it reserved (SPEC §13: work done is billed).
 */
export async function closeGathered(env: Bindings, tenantId: string, close: HoldClose): Promise<void> {
  if (!reserves.busy(tenantId)) return sendCloses(env, tenantId, [close]);
  // Other holds of this tenant are on their way to its object: this closing rides in their next call, or goes alone soon.
  await riding.ride(tenantId, close, (left) => sendCloses(env, tenantId, left));
}

function sendCloses(env: Bindings, tenantId: string, items: HoldClose[]): Promise<void> {
  const tenant = ledgerStub(env, tenantId);
  return closes.postAll(
    tenantId,
    items,
    (batch) => tenant.closeHolds(batch),
    (err, batch) => log.error("hold_close_failed", { holds: batch.length, error: err instanceof Error ? err.name : "unknown" }),
  );
}
