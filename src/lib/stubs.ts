import type { Bindings } from "../env";

/** The Durable Object of one tenant: its ledger and its tasks. */
export function ledgerStub(env: Bindings, tenantId: string) {
  return env.LEDGER.get(env.LEDGER.idFromName(tenantId));
}
