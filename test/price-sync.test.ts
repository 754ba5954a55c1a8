import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig, type Bindings } from "../src/env";
import { syncSchedule } from "../src/lib/price-sync";
import { activeSchedule } from "../src/lib/price-store";
import { scheduled } from "../src/scheduled";
import { RunApiClient } from "../src/upstream/runapi";
import { admin, api, expectError, json, nonce, sim, t2v, tenantWithKey } from "./helpers";

// RunAPI's live price schedule synced into KV (SPEC §12): on demand and by the cron trigger, conditional on
// its ETag, answering what changed; a schedule RunAPI sends broken never replaces the one in force.

const bindings = env as Bindings;
type Json = Record<string, any>;

/** Changes RunAPI's prices (the simulator's copy); its ETag moves. */
async function runapiPrices(body: Json) {
  const res = await sim("/__sim/prices", { method: "POST", body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

const T2V_STD = { service: "hailuo", action: "text_to_video", model: "hailuo-02-text-to-video-standard" };

describe("price sync", () => {
  afterAll(async () => {
    await runapiPrices({ reset: true });
    await admin("/admin/v1/prices/sync", { method: "POST" });
  });

  it("fetches RunAPI's schedule on demand, then only what changed (ETag)", async () => {
    const first = await json(await admin("/admin/v1/prices/sync", { method: "POST" }));
    expect(first).toMatchObject({ changed: true, rejected: 0, etag: expect.stringMatching(/^"/) });
    expect(first.prices).toBeGreaterThan(250);
    const prices = await json(await admin("/admin/v1/prices"));
    expect(prices.schedule).toMatchObject({ origin: "runapi", etag: first.etag });

    // Unchanged: RunAPI answers 304 and nothing moves but the time of the check.
    const again = await json(await admin("/admin/v1/prices/sync", { method: "POST" }));
    expect(again).toMatchObject({ changed: false, etag: first.etag, added: [], removed: [], updated: [] });

    // RunAPI raises a price: the next sync says which, and creates reserve the new one at once.
    await runapiPrices({ set: [{ ...T2V_STD, unit_price_cents: 50, billing_config: { key: "duration_seconds", overrides: { "6": 35, "10": 50 } } }] });
    const changed = await json(await admin("/admin/v1/prices/sync", { method: "POST" }));
    expect(changed).toMatchObject({ changed: true, updated: ["hailuo/text_to_video/hailuo-02-text-to-video-standard"], added: [], removed: [] });
    const { key } = await tenantWithKey();
    const created = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) });
    expect(created.headers.get("X-Estimated-Cost-Usd")).toBe("0.350000");
  });

  it("a model RunAPI stops pricing cannot be created, never forwarded unpriced", async () => {
    await runapiPrices({ remove: [T2V_STD] });
    const report = await json(await admin("/admin/v1/prices/sync", { method: "POST" }));
    expect(report.removed).toContain("hailuo/text_to_video/hailuo-02-text-to-video-standard");
    const { key } = await tenantWithKey();
    // Without a price in the schedule the proxy asks RunAPI's quote; the simulator has no price either.
    await expectError(await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) }), 503, "pricing_unavailable");
    await runapiPrices({ reset: true });
    await admin("/admin/v1/prices/sync", { method: "POST" });
  });

  it("the cron trigger syncs too", async () => {
    await runapiPrices({ set: [{ ...T2V_STD, unit_price_cents: 50, billing_config: { key: "duration_seconds", overrides: { "6": 31, "10": 50 } } }] });
    await scheduled({ scheduledTime: Date.now(), cron: "*/30 * * * *" }, bindings);
    const { key } = await tenantWithKey();
    expect((await json(await api(key, "/api/v1/estimate", { body: t2v(nonce()) }))).estimated_cost_usd).toBe(0.31);
  });

  it("a schedule that is not one, or has no usable price, never replaces the one in force", async () => {
    const before = await activeSchedule(bindings.TENANTS);
    const answer = (body: unknown) =>
      new RunApiClient(loadConfig(bindings), { fetch: async () => new Response(JSON.stringify(body), { headers: { ETag: '"broken"' } }) });
    for (const body of [{ nope: 1 }, { price_schedules: [] }, { price_schedules: [{ service: 1 }, { service: "x", action: "y", unit_price_cents: -5 }] }]) {
      await expect(syncSchedule(bindings.TENANTS, answer(body))).rejects.toMatchObject({ code: "upstream_error" });
    }
    expect((await activeSchedule(bindings.TENANTS)).etag).toBe(before.etag);
    // A few bad entries among good ones are left out and counted; the rest is used.
    const good = before.index.all.slice(0, 3);
    const report = await syncSchedule(
      bindings.TENANTS,
      answer({ as_of: "2026-12-01", price_schedules: [...good, { service: "kling", action: "x", unit_price_cents: "free" }] }),
    );
    expect(report).toMatchObject({ changed: true, prices: 3, rejected: 1 });
    await admin("/admin/v1/prices/sync", { method: "POST" });
  });
});
