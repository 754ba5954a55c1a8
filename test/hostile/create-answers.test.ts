import { describe, expect, it } from "vitest";
import { api, expectError, ledgerObject, nonce, proxy, t2v, tenantWithKey } from "../helpers";

// SPEC §13 "Bounded reading": a create answer larger than UPSTREAM_MAX_JSON_BYTES (1 MiB) is not read past the
// limit and ends the request with 502 upstream_error. (Whether RunAPI then did the work is the create flow's
// question: its "outcome unknown" handling decides the money.) RunAPI here is sim/hostile.

describe("a hostile create answer", () => {
  it("20 MB of JSON for a create is a 502 upstream_error naming the limit, and the ledger stays whole", { timeout: 60_000 }, async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(`${nonce()} [hostile:create-flood=20]`) });
    const error = await expectError(res, 502, "upstream_error");
    expect(error.message).toContain("more than 1048576 bytes");
    expect(error.details).toMatchObject({ task_id: expect.any(String) });
    expect((await ledgerObject(tenantId).totalsCheck()).ok).toBe(true);
    // The proxy is still there for everyone else.
    expect((await proxy("/health")).status).toBe(200);
  });
});
