import type { Bindings } from "../env";

/** The Durable Object of one tenant: its ledger and its tasks. */
export function ledgerStub(env: Bindings, tenantId: string) {
  return env.LEDGER.get(env.LEDGER.idFromName(tenantId));
}

/** The deployment's counters (one object). */
export function metricsStub(env: Bindings) {
  return env.METRICS.get(env.METRICS.idFromName("metrics"));
}

/** The operators' object (one): their tokens and the audit log. */
export function operatorLog(env: Bindings) {
  return env.OPERATORS.get(env.OPERATORS.idFromName("operators"));
}

/** The coordinator of RunAPI's capacity (one; SPEC §14): tenants' objects report to it, a create within its lease never does. */
export function capacityStub(env: Bindings) {
  return env.CAPACITY.get(env.CAPACITY.idFromName("capacity"));
}
