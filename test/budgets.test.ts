import { afterEach, describe, expect, it } from "vitest";
import * as helpers from "./helpers";
import { admin, advanceUpstream, api, deliverCallbacks, eventually, getTask, json, ledgerObject, me, newKey, nonce, simRequests, t2v } from "./helpers";

// Every tenant this file makes; after each test its ledger's totals must equal what its entries add up to.
const tenants = new Set<string>();
async function tenantWithKey(...args: Parameters<typeof helpers.tenantWithKey>) {
  const made = await helpers.tenantWithKey(...args);
  tenants.add(made.tenantId);
  return made;
}
afterEach(async () => {
  for (const id of tenants) {
    const audit = await ledgerObject(id).totalsCheck();
    expect(audit.mismatches, id).toEqual([]);
    expect(audit.ok).toBe(true);
  }
});

const create = (key: string, prompt: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  api(key, "/api/v1/hailuo/text_to_video", { body: t2v(prompt, extra), headers });

describe("budgets hold under concurrency", () => {
  it("50 concurrent creates against a budget that fits 7: exactly 7 reach RunAPI", async () => {
    // 7 × $0.30 = $2.10; $2.39 leaves less than one more.
    const { key, tenantId } = await tenantWithKey({ budget: { limit_usd: 2.39, period: "day" } });
    const marker = nonce();
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => create(key, `${marker} #${i}`)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(7);
    expect(statuses.filter((s) => s === 402)).toHaveLength(43);
    expect(await simRequests(marker)).toHaveLength(7);

    const refused = await json(responses.find((r) => r.status === 402)!);
    expect(refused.error).toMatchObject({ code: "budget_exceeded", details: { scope: "tenant", period: "day", limit_usd: 2.39, required_usd: 0.3 } });
    expect(refused.error.details.resets_at).toMatch(/T00:00:00.000Z$/);
    expect((await me(key)).budgets.tenant).toMatchObject({ reserved_usd: 2.1, spent_usd: 0, remaining_usd: 0.29 });
    expect((await ledgerObject(tenantId).totalsCheck()).ok).toBe(true);
  });

  it("caps unfinished tasks: 10 concurrent against max_concurrent_tasks 3", async () => {
    const { key } = await tenantWithKey({ limits: { max_concurrent_tasks: 3 } });
    const marker = nonce();
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => create(key, `${marker} #${i}`)));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(3);
    const limited = responses.filter((r) => r.status === 429);
    expect(limited).toHaveLength(7);
    expect(Number(limited[0]!.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await json(limited[0]!)).error).toMatchObject({ code: "rate_limited", details: { limit: "max_concurrent_tasks" } });
    expect(await simRequests(marker)).toHaveLength(3);

    // Finishing one frees a slot.
    const id = (await json(responses.find((r) => r.status === 200)!)).id;
    await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
    await eventually(async () => expect((await getTask(key, id)).status).toBe("completed"));
    await eventually(async () => expect((await create(key, nonce())).status).toBe(200));
  });

  it("key budgets bind per key, concurrently", async () => {
    const { key: first, tenantId } = await tenantWithKey({}, { budget: { limit_usd: 0.6, period: "total" } });
    const second = await newKey(tenantId, { budget: { limit_usd: 0.9, period: "total" } });
    const marker = nonce();
    const responses = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => create(first, `${marker} a${i}`)),
      ...Array.from({ length: 10 }, (_, i) => create(second.key, `${marker} b${i}`)),
    ]);
    expect(responses.slice(0, 10).filter((r) => r.status === 200)).toHaveLength(2);
    expect(responses.slice(10).filter((r) => r.status === 200)).toHaveLength(3);
    const refused = await json(responses.slice(0, 10).find((r) => r.status === 402)!);
    expect(refused.error.details).toMatchObject({ scope: "key", limit_usd: 0.6, resets_at: null });
    expect(await simRequests(marker)).toHaveLength(5);
    expect((await me(first)).budgets.key).toMatchObject({ reserved_usd: 0.6 });
    expect((await me(first)).budgets.tenant).toMatchObject({ reserved_usd: 1.5 });
  });

  it("end-user budgets bind per end user", async () => {
    const { key } = await tenantWithKey({ end_user_budget: { limit_usd: 0.3, period: "day" } });
    expect((await create(key, nonce(), { "X-End-User-Id": "alice" })).status).toBe(200);
    const second = await create(key, nonce(), { "X-End-User-Id": "alice" });
    expect(second.status).toBe(402);
    expect((await json(second)).error.details).toMatchObject({ scope: "end_user" });
    expect((await create(key, nonce(), { "X-End-User-Id": "bob" })).status).toBe(200);
  });

  it("publishable keys budget per client IP", async () => {
    const { key: _secret, tenantId } = await tenantWithKey({ end_user_budget: { limit_usd: 0.3, period: "day" } });
    const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://app.example"] });
    const fromIp = (ip: string) => create(pk.key, nonce(), { "CF-Connecting-IP": ip, Origin: "https://app.example" });
    expect((await fromIp("203.0.113.7")).status).toBe(200);
    expect((await fromIp("203.0.113.7")).status).toBe(402);
    expect((await fromIp("198.51.100.2")).status).toBe(200);
  });

  it("limits requests per minute per key", async () => {
    const { key, tenantId } = await tenantWithKey({ limits: { requests_per_minute: 2 } });
    const other = await newKey(tenantId);
    expect((await create(key, nonce())).status).toBe(200);
    expect((await create(key, nonce())).status).toBe(200);
    const third = await create(key, nonce());
    expect(third.status).toBe(429);
    expect((await json(third)).error.details.limit).toBe("requests_per_minute");
    expect(Number(third.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect((await create(other.key, nonce())).status).toBe(200);
  });
});

describe("idempotency", () => {
  it("replays the first response for the same key and body, with no second reservation or forward", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const first = await create(key, marker, { "Idempotency-Key": "order-1" });
    const again = await create(key, marker, { "Idempotency-Key": "order-1" });
    expect(again.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect((await json(again)).id).toBe((await json(first)).id);
    expect(await simRequests(marker)).toHaveLength(1);
    expect((await me(key)).budgets.tenant.reserved_usd).toBe(0.3);
  });

  it("treats an aliased body as the same body", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const a = await create(key, marker, { "Idempotency-Key": "k" });
    const b = await api(key, "/api/v1/hailuo/text_to_video", {
      body: { prompt: marker, duration: "6", model: "hailuo-02-text-to-video-standard" },
      headers: { "Idempotency-Key": "k" },
    });
    expect((await json(b)).id).toBe((await json(a)).id);
  });

  it("refuses the same key with another body (409)", async () => {
    const { key } = await tenantWithKey();
    await create(key, nonce(), { "Idempotency-Key": "dup" });
    const other = await create(key, nonce(), { "Idempotency-Key": "dup" });
    expect(other.status).toBe(409);
    expect((await json(other)).error.code).toBe("idempotency_conflict");
  });

  it("scopes keys to the tenant", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    const marker = nonce();
    const ra = await json(await create(a.key, marker, { "Idempotency-Key": "shared" }));
    const rb = await json(await create(b.key, marker, { "Idempotency-Key": "shared" }));
    expect(ra.id).not.toBe(rb.id);
  });

  it("two concurrent requests with one key make one task", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const responses = await Promise.all(Array.from({ length: 5 }, () => create(key, marker, { "Idempotency-Key": "race" })));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(responses.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    expect(new Set(await Promise.all(ok.map(async (r) => (await json(r)).id))).size).toBe(1);
    expect(await simRequests(marker)).toHaveLength(1);
    expect((await me(key)).budgets.tenant.reserved_usd).toBe(0.3);
  });

  it("lets a client retry with the same key after an upstream failure", async () => {
    const { key } = await tenantWithKey();
    const marker = `${nonce()} [sim:429]`;
    expect((await create(key, marker, { "Idempotency-Key": "retry-me" })).status).toBe(429);
    const retry = await create(key, marker, { "Idempotency-Key": "retry-me" });
    expect(retry.status).toBe(429); // still failing upstream, but not replayed or refused as a conflict
    expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
    expect((await me(key)).budgets.tenant.reserved_usd).toBe(0);
  });
});

describe("settlement and reporting", () => {
  it("settles completed tasks, releases failed ones, and the export reconciles with /me", async () => {
    const { key, tenantId } = await tenantWithKey();
    const done = (await json(await create(key, `${nonce()} [sim:cost=20]`))).id;
    const failed = (await json(await create(key, `${nonce()} [sim:fail]`))).id;
    const open = (await json(await create(key, nonce()))).id;
    await deliverCallbacks(await advanceUpstream(done, { status: "completed", cost_cents: 20 }));
    await deliverCallbacks(await advanceUpstream(failed, { status: "failed" }));
    await eventually(async () => {
      expect((await getTask(key, done)).status).toBe("completed");
      expect((await getTask(key, failed)).status).toBe("failed");
    });
    await eventually(async () => expect((await me(key)).budgets.tenant).toMatchObject({ spent_usd: 0.2, reserved_usd: 0.3 }));
    void open;

    const exported = await json(await admin(`/admin/v1/tenants/${tenantId}/ledger`));
    const sum = (type: string, field: "amount_micros") => exported.entries.filter((e: any) => e.type === type).reduce((n: number, e: any) => n + e[field], 0);
    expect(sum("reserve", "amount_micros")).toBe(900_000);
    expect(sum("settle", "amount_micros")).toBe(200_000);
    const csv = await (await admin(`/admin/v1/tenants/${tenantId}/ledger?format=csv`)).text();
    expect(csv.split("\r\n")[0]).toBe("id,at,booked_at,type,task_id,key_id,end_user,model,amount_usd,reserved_usd,reason");
    expect(csv.trim().split("\r\n")).toHaveLength(exported.entries.length + 1);
    expect((await ledgerObject(tenantId).totalsCheck()).ok).toBe(true);
  });

  it("estimate reports would_exceed against the live ledger, reserving nothing", async () => {
    const { key } = await tenantWithKey({ budget: { limit_usd: 0.5, period: "month" } });
    const body = t2v(nonce());
    const before = await json(await api(key, "/api/v1/estimate", { body }));
    expect(before).toMatchObject({ model: body.model, estimated_cost_usd: 0.3, budget: { remaining_usd: 0.5, would_exceed: false } });
    await create(key, nonce());
    const after = await json(await api(key, "/api/v1/estimate", { body }));
    expect(after.budget).toEqual({ remaining_usd: 0.2, would_exceed: true });
    expect(await simRequests(body.prompt)).toHaveLength(0);
  });

  it("operator adjustments credit and debit the tenant", async () => {
    const { key, tenantId } = await tenantWithKey({ budget: { limit_usd: 1, period: "month" } });
    await deliverCallbacks(await advanceUpstream((await json(await create(key, nonce()))).id, { status: "completed" }));
    await eventually(async () => expect((await me(key)).budgets.tenant.spent_usd).toBe(0.3));
    const credit = await admin(`/admin/v1/tenants/${tenantId}/adjustments`, { body: { amount_usd: 0.25, reason: "goodwill" } });
    expect(credit.status).toBe(201);
    expect((await me(key)).budgets.tenant).toMatchObject({ spent_usd: 0.05, remaining_usd: 0.95 });
    await admin(`/admin/v1/tenants/${tenantId}/adjustments`, { body: { amount_usd: -0.5, reason: "manual charge" } });
    expect((await me(key)).budgets.tenant).toMatchObject({ spent_usd: 0.55, remaining_usd: 0.45 });
    const usage = await json(await admin(`/admin/v1/tenants/${tenantId}/usage`));
    expect(usage.budgets[0]).toMatchObject({ scope: "tenant", spent_usd: 0.55 });
  });
});
