import { describe, expect, it } from "vitest";
import { eventually, expectError, getTask, json, nonce, simRequests, tenantBudget, tenantWithKey, upstreamIdOf } from "../helpers";
import { create, drain, finish, inFlightAtRunApi, simLimits } from "./drive";

// RunAPI's account here allows 12 tasks in flight, and the proxy knows it (vitest.config.ts, project "capacity").
const NO_LIMITS = { limits: { max_concurrent_tasks: null, requests_per_minute: null } };

describe("beyond a tenant's share of RunAPI's capacity", () => {
  it("a create is refused 429 upstream_capacity with Retry-After; nothing reaches RunAPI or is held", async () => {
    const { key } = await tenantWithKey(NO_LIMITS);
    const n = nonce();
    for (let i = 0; i < 12; i++) expect((await create(key, `${n} ${i}`)).status).toBe(200);
    const before = await tenantBudget(key);
    const res = await create(key, `${n} over`);
    expect(res.headers.get("Retry-After")).toMatch(/^\d+$/);
    const error = await expectError(res, 429, "rate_limited");
    expect(error.details).toMatchObject({ reason: "upstream_capacity", limit: "upstream_capacity" });
    expect(await simRequests(`${n} over`)).toHaveLength(0);
    expect((await tenantBudget(key)).reserved_usd).toBe(before.reserved_usd);
    expect((await simLimits()).refused).toBe(0);
    await drain(key);
  });

  it("with Prefer: respond-async, queue it is held as queued (202) and starts when one of the tenant's tasks ends", async () => {
    const { key } = await tenantWithKey(NO_LIMITS);
    const n = nonce();
    // The tenant before was refused a moment ago: for a few seconds that still counts as its demand (a slot of its
    // own); the headroom it held it gives back when asked, which a busy machine may not finish within this create.
    let sent = 0;
    let res = await create(key, `${n} ${sent}`, true);
    while (res.status === 200) {
      sent += 1;
      res = await create(key, `${n} ${sent}`, true);
    }
    expect(sent).toBeGreaterThanOrEqual(10);
    expect(res.status).toBe(202);
    expect(res.headers.get("Preference-Applied")).toBe("respond-async, queue");
    const body = await json(res);
    expect(body).toMatchObject({ status: "queued", estimated_cost_usd: 0.3 });
    expect((await getTask(key, body.id)).status).toBe("queued");
    expect((await tenantBudget(key)).reserved_usd).toBeCloseTo((sent + 1) * 0.3, 6);
    expect(await upstreamIdOf(body.id)).toBeNull();

    const running = await inFlightAtRunApi(key);
    await finish(key, running.slice(0, 1));
    await eventually(async () => expect(await upstreamIdOf(body.id)).not.toBeNull(), 15_000);
    await eventually(async () => expect((await getTask(key, body.id)).status).toBe("pending"));
    const limits = await simLimits();
    expect(limits.refused).toBe(0);
    expect(limits.peak_in_flight).toBeLessThanOrEqual(12);
    await drain(key);
  });
});
