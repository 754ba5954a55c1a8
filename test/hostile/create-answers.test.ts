import { describe, expect, it } from "vitest";
import { api, ledgerObject, nonce, proxy, t2v, tenantBudget, tenantWithKey } from "../helpers";

// SPEC §13 "Bounded reading": a create answer larger than UPSTREAM_MAX_JSON_BYTES (1 MiB) is not read past the
// limit. RunAPI said yes to something the proxy cannot read, so it may have made the task: "outcome unknown",
// the money held and the create reconciled with the same Idempotency-Key. RunAPI here is sim/hostile.

describe("a hostile create answer", () => {
  it("20 MB of JSON for a create is read no further than the limit: outcome unknown, the money held, the ledger whole", { timeout: 60_000 }, async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(`${nonce()} [hostile:create-flood=20]`) });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: "pending", submission: "unknown" });
    expect((await tenantBudget(key)).reserved_usd).toBe(0.3);
    expect((await ledgerObject(tenantId).totalsCheck()).ok).toBe(true);
    // The proxy is still there for everyone else.
    expect((await proxy("/health")).status).toBe(200);
  });
});
