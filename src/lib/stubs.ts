import type { Bindings } from "../env";

/** Object ids by name, per namespace: `idFromName` hashes the name on every call, and a tenant's id never changes. */
const ids = new WeakMap<object, Map<string, DurableObjectId>>();
/** Names remembered per namespace; past it the map starts again (tenants are many, the hot ones few). */
const MAX_IDS = 10_000;

function idFor(ns: { idFromName(name: string): DurableObjectId }, name: string): DurableObjectId {
  let byName = ids.get(ns);
  if (!byName) {
    byName = new Map();
    ids.set(ns, byName);
  }
  let id = byName.get(name);
  if (!id) {
    if (byName.size >= MAX_IDS) byName.clear();
    id = ns.idFromName(name);
    byName.set(name, id);
  }
  return id;
}

/** The Durable Object of one tenant: its ledger and its tasks. */
export function ledgerStub(env: Bindings, tenantId: string) {
  return env.LEDGER.get(idFor(env.LEDGER, tenantId));
}

/** The deployment's counters (one object). */
export function metricsStub(env: Bindings) {
  return env.METRICS.get(idFor(env.METRICS, "metrics"));
}

/** The operators' object (one): their tokens and the audit log. */
export function operatorLog(env: Bindings) {
  return env.OPERATORS.get(idFor(env.OPERATORS, "operators"));
}

/** The coordinator of RunAPI's capacity (one; SPEC §14): tenants' objects report to it, a create within its lease never does. */
export function capacityStub(env: Bindings) {
  return env.CAPACITY.get(idFor(env.CAPACITY, "capacity"));
}

/**
 * The longest a call to the coordinator may take: past it the call counts as failed (the lease stands as it is, the next
 * report tries again). Without it one call that never ends would hold every later report behind it, and the alarm
 * that awaits one would never set the next: the tenant's queue would stop starting and expiring.
 */
export const COORDINATOR_TIMEOUT_MS = 5_000;

/** `call` to the coordinator, rejected when it has not answered within COORDINATOR_TIMEOUT_MS. */
export function withinCoordinatorTimeout<T>(call: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the capacity coordinator did not answer in time")), COORDINATOR_TIMEOUT_MS);
  });
  return Promise.race([call, late]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}
