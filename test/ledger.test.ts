import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { hailuoTaskInit } from "./fixtures";
import { decodeCursor, encodeCursor } from "../src/domain/ledger-limits";
import type { Period } from "../src/domain/tenant";
import { HOLD_MAX_MS, type CreateTaskRequest, type ReserveRequest, type ScopeBudget, type TenantLedger } from "../src/durable-objects/tenant";

const PRICE = 300_000;
const NOW = Date.parse("2026-03-10T12:00:10Z"); // a Tuesday, 10 s into a minute
const REAL_NOW = Date.now();

const opened: DurableObjectStub<TenantLedger>[] = [];
/** A fresh tenant's ledger; after each test its totals must add up to its entries. */
function ledger(): DurableObjectStub<TenantLedger> {
  const stub = env.LEDGER.get(env.LEDGER.idFromName(crypto.randomUUID()));
  opened.push(stub);
  return stub;
}
afterEach(async () => {
  for (const stub of opened.splice(0)) expect((await stub.totalsCheck()).mismatches).toEqual([]);
});

const budget = (scope: ScopeBudget["scope"], subject: string, limit: number, period: Period = "day"): ScopeBudget => ({
  scope,
  subject,
  limit_micros: limit,
  period,
});
const tenant = (limit: number, period: Period = "day") => budget("tenant", "tenant_1", limit, period);
function req(over: Partial<ReserveRequest> = {}): ReserveRequest {
  return {
    taskId: crypto.randomUUID(),
    keyId: "key_a",
    endUser: null,
    model: "hailuo-02-text-to-video-standard",
    amountMicros: PRICE,
    now: NOW,
    budgets: [tenant(10_000_000)],
    maxConcurrentTasks: null,
    requestsPerMinute: null,
    idempotency: null,
    ...over,
  };
}
/** A video task's create: the same money rules as a hold, plus the task row. Tasks live on the object's clock: NOW maps to now. */
function task(r: ReserveRequest): CreateTaskRequest {
  const now = REAL_NOW + (r.now - NOW);
  return {
    ...r,
    now,
    viewer: { tenantId: "tenant_1" },
    init: hailuoTaskInit({
      id: r.taskId,
      tenantId: "tenant_1",
      keyId: r.keyId,
      endUser: r.endUser,
      model: r.model,
      estimateMicros: r.amountMicros,
      costMicros: r.amountMicros,
      callbackUrl: "https://proxy.test/cb",
      now,
    }),
  };
}
/** The error an RPC call fails with (awaited here, so no rejection is left unhandled). */
async function failure(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return "no error";
  } catch (err) {
    return String(err);
  }
}
async function state(stub: DurableObjectStub<TenantLedger>, b: ScopeBudget, now = NOW) {
  const [s] = await stub.usage(now, [b]);
  return s!;
}

describe("reserve under concurrency", () => {
  it("50 concurrent requests against a budget that fits 7: exactly 7 are held, to the micro-dollar", async () => {
    const stub = ledger();
    const limit = tenant(7 * PRICE + PRICE - 1);
    const requests = Array.from({ length: 50 }, () => req({ budgets: [limit] }));
    const results = await Promise.all(requests.map((r) => stub.reserve(r)));
    expect(results.filter((r) => r.ok)).toHaveLength(7);
    const refused = results.filter((r) => !r.ok);
    expect(refused).toHaveLength(43);
    expect(refused[0]).toMatchObject({
      code: "budget_exceeded",
      scope: { scope: "tenant", required_micros: PRICE, reserved_micros: 7 * PRICE, remaining_micros: PRICE - 1 },
    });
    expect(await state(stub, limit)).toMatchObject({ reserved_micros: 7 * PRICE, spent_micros: 0 });

    const held = requests.filter((_, i) => results[i]!.ok);
    await Promise.all(held.map((r) => stub.settle(r.taskId, PRICE, NOW + 1000)));
    expect(await state(stub, limit)).toMatchObject({ reserved_micros: 0, spent_micros: 7 * PRICE, remaining_micros: PRICE - 1 });
  });

  it("max_concurrent_tasks: exactly 5 of 50 concurrent creates; a finished task frees a slot; holds (chat) take no slot", async () => {
    const stub = ledger();
    const requests = Array.from({ length: 50 }, () => req({ maxConcurrentTasks: 5 }));
    const results = await Promise.all(requests.map((r) => stub.createTask(task(r))));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(results.filter((r) => !r.ok && r.code === "rate_limited" && r.limit === "max_concurrent_tasks" && r.retryAfterSeconds > 0)).toHaveLength(45);
    expect((await stub.reserve(req({ maxConcurrentTasks: 5 }))).ok).toBe(true);
    const first = requests[results.findIndex((r) => r.ok)]!;
    await stub.submitRefused(first.taskId, { code: "upstream_error", message: "RunAPI failed with status 500" });
    expect((await stub.createTask(task(req({ maxConcurrentTasks: 5 })))).ok).toBe(true);
    expect((await stub.createTask(task(req({ maxConcurrentTasks: 5 })))).ok).toBe(false);
  });

  it("mixed keys, each with its own key budget: exactly 4 per key", async () => {
    const stub = ledger();
    const keys = ["key_a", "key_b", "key_c"];
    const requests = keys.flatMap((keyId) =>
      Array.from({ length: 20 }, () => req({ keyId, budgets: [tenant(100 * PRICE), budget("key", keyId, 4 * PRICE + 1)] })),
    );
    const results = await Promise.all(requests.map((r) => stub.reserve(r)));
    for (const keyId of keys) {
      const mine = results.filter((_, i) => requests[i]!.keyId === keyId);
      expect(mine.filter((r) => r.ok)).toHaveLength(4);
      expect(mine.filter((r) => !r.ok && r.code === "budget_exceeded" && r.scope.scope === "key")).toHaveLength(16);
      expect(await state(stub, budget("key", keyId, 4 * PRICE + 1))).toMatchObject({ reserved_micros: 4 * PRICE });
    }
    expect(await state(stub, tenant(100 * PRICE))).toMatchObject({ reserved_micros: 12 * PRICE });
  });

  it("a retried reserve or create of the same id holds nothing more", async () => {
    const stub = ledger();
    const r = req();
    await stub.reserve(r);
    expect((await stub.reserve(r)).ok).toBe(true);
    const t = req();
    await stub.createTask(task(t));
    expect((await stub.createTask(task(t))).ok).toBe(true);
    expect(await state(stub, tenant(10_000_000, "total"))).toMatchObject({ reserved_micros: 2 * PRICE });
    await stub.release(r.taskId, NOW, "done");
    await stub.submitRefused(t.taskId, { code: "upstream_error", message: "done" });
  });
});

describe("settle and release, exactly once", () => {
  it("charges the actual cost (higher or lower than the estimate) once only", async () => {
    const stub = ledger();
    const [a, b, c] = [req(), req(), req()];
    for (const r of [a, b, c]) expect((await stub.reserve(r)).ok).toBe(true);
    expect(await stub.settle(a.taskId, 450_000, NOW)).toEqual({ settled: true, charged_micros: 450_000 });
    expect(await stub.settle(b.taskId, 120_000, NOW)).toEqual({ settled: true, charged_micros: 120_000 });
    expect(await stub.release(c.taskId, NOW, "upstream 500")).toEqual({ released: true });

    expect(await stub.settle(a.taskId, 999_999, NOW)).toEqual({ settled: false, charged_micros: 450_000 });
    expect(await stub.release(a.taskId, NOW, "late failure")).toEqual({ released: false });
    expect(await stub.release(c.taskId, NOW, "again")).toEqual({ released: false });
    expect(await stub.settle(c.taskId, PRICE, NOW)).toEqual({ settled: false, charged_micros: 0 });
    expect(await stub.settle("no-such-task", PRICE, NOW)).toEqual({ settled: false, charged_micros: 0 });
    expect(await stub.release("no-such-task", NOW, "x")).toEqual({ released: false });

    expect(await state(stub, tenant(10_000_000))).toMatchObject({ spent_micros: 570_000, reserved_micros: 0 });
    const types = (await stub.entries({})).entries.map((e) => e.type);
    expect(types).toEqual(["reserve", "reserve", "reserve", "settle", "settle", "release"]);
    expect(await failure(() => stub.settle(a.taskId, 1.5, NOW))).toMatch(/integer/);
  });
});

describe("periods", () => {
  const day = 86_400_000;

  it("a day budget spent yesterday is free today; a reservation from yesterday settles into yesterday", async () => {
    const stub = ledger();
    const daily = tenant(2 * PRICE);
    const yesterday = NOW - day;
    const spent = req({ now: yesterday, budgets: [daily] });
    const late = req({ now: Date.parse("2026-03-09T23:59:59.999Z"), budgets: [daily] });
    expect((await stub.reserve(spent)).ok).toBe(true);
    expect((await stub.reserve(late)).ok).toBe(true);
    await stub.settle(spent.taskId, PRICE, yesterday);
    expect((await stub.reserve(req({ now: yesterday, budgets: [daily] }))).ok).toBe(false);

    const today = req({ budgets: [daily] });
    expect((await stub.reserve(today)).ok).toBe(true);
    await stub.settle(late.taskId, 250_000, NOW); // settled today, lands in yesterday's bucket
    await stub.release(today.taskId, NOW, "failed");
    expect(await state(stub, daily, yesterday)).toMatchObject({ spent_micros: PRICE + 250_000, reserved_micros: 0, resets_at: "2026-03-10T00:00:00.000Z" });
    expect(await state(stub, daily)).toMatchObject({ spent_micros: 0, reserved_micros: 0, remaining_micros: 2 * PRICE });
  });

  it("week resets on Monday, month on the 1st, total never", async () => {
    const cases: [Period, string, string, string | null][] = [
      ["week", "2026-03-15T23:59:59.999Z", "2026-03-16T00:00:00.000Z", "2026-03-23T00:00:00.000Z"],
      ["month", "2026-02-28T23:59:59.999Z", "2026-03-01T00:00:00.000Z", "2026-04-01T00:00:00.000Z"],
      ["total", "2025-01-01T00:00:00.000Z", "2026-12-31T23:59:59.999Z", null],
    ];
    for (const [period, before, after, resets] of cases) {
      const stub = ledger();
      const b = tenant(PRICE, period);
      const first = req({ now: Date.parse(before), budgets: [b] });
      expect((await stub.reserve(first)).ok).toBe(true);
      await stub.settle(first.taskId, PRICE, Date.parse(before));
      expect((await stub.reserve(req({ now: Date.parse(before), budgets: [b] }))).ok).toBe(false);
      expect(await state(stub, b, Date.parse(after))).toMatchObject({ spent_micros: period === "total" ? PRICE : 0, resets_at: resets });
    }
  });
});

describe("scopes and limits", () => {
  it("the key scope and the end-user scope each bind on their own", async () => {
    const stub = ledger();
    const withKey = (keyId: string) => [tenant(10 * PRICE), budget("key", keyId, PRICE)];
    const hold = async (r: ReserveRequest) => ((await stub.reserve(r)).ok ? [r.taskId] : []);
    const held = [...(await hold(req({ keyId: "key_a", budgets: withKey("key_a") })))];
    const refused = await stub.reserve(req({ keyId: "key_a", budgets: withKey("key_a") }));
    expect(refused).toMatchObject({ ok: false, code: "budget_exceeded", scope: { scope: "key", subject: "key_a", remaining_micros: 0 } });
    held.push(...(await hold(req({ keyId: "key_b", budgets: withKey("key_b") }))));

    const perUser = (u: string) => [tenant(10 * PRICE), budget("end_user", u, PRICE, "month")];
    held.push(...(await hold(req({ endUser: "u1", budgets: perUser("u1") }))));
    expect(await stub.reserve(req({ endUser: "u1", budgets: perUser("u1") }))).toMatchObject({ ok: false, scope: { scope: "end_user", subject: "u1" } });
    held.push(...(await hold(req({ endUser: "u2", budgets: perUser("u2") }))));
    expect(held).toHaveLength(4); // key_a, key_b, u1, u2
    expect(await state(stub, tenant(10 * PRICE))).toMatchObject({ reserved_micros: 4 * PRICE });
    for (const id of held) await stub.release(id, NOW, "done");
  });

  it("requests_per_minute per key, with Retry-After to the next minute; a revoked key is refused", async () => {
    const stub = ledger();
    for (let i = 0; i < 3; i++) expect((await stub.reserve(req({ requestsPerMinute: 3 }))).ok).toBe(true);
    expect(await stub.reserve(req({ requestsPerMinute: 3 }))).toEqual({ ok: false, code: "rate_limited", limit: "requests_per_minute", retryAfterSeconds: 50 });
    expect((await stub.reserve(req({ keyId: "key_b", requestsPerMinute: 3 }))).ok).toBe(true);
    expect((await stub.reserve(req({ requestsPerMinute: 3, now: NOW + 50_000 }))).ok).toBe(true);

    await stub.revokeKey("key_a", NOW);
    expect(await stub.reserve(req({ now: NOW + 120_000 }))).toEqual({ ok: false, code: "key_revoked" });
    expect((await stub.reserve(req({ keyId: "key_b", now: NOW + 120_000 }))).ok).toBe(true);
  });

  it("Idempotency-Key: in progress, replay, conflict, 24 h memory, and forgetting after a refused create", async () => {
    const stub = ledger();
    const idem = (bodyHash: string) => ({ key: "idem-1", bodyHash });
    const first = req({ idempotency: idem("h1") });
    expect((await stub.createTask(task(first))).ok).toBe(true);
    expect(await stub.createTask(task(req({ idempotency: idem("h1") })))).toEqual({ ok: false, code: "idempotency_in_progress", taskId: first.taskId });
    await stub.submitted([{ taskId: first.taskId, upstreamId: crypto.randomUUID() }]);
    expect(await stub.createTask(task(req({ idempotency: idem("h1") })))).toMatchObject({
      ok: false,
      code: "idempotent_replay",
      view: { id: first.taskId, status: "pending" },
      estimate_micros: PRICE,
    });
    expect(await stub.createTask(task(req({ idempotency: idem("h2") })))).toEqual({ ok: false, code: "idempotency_conflict" });
    const later = req({ idempotency: idem("h2"), now: NOW + 24 * 3_600_000 });
    expect((await stub.createTask(task(later))).ok).toBe(true);

    const other = req({ idempotency: { key: "idem-2", bodyHash: "h" } });
    await stub.createTask(task(other));
    await stub.submitRefused(other.taskId, { code: "upstream_error", message: "RunAPI failed with status 500" });
    const retry = req({ idempotency: { key: "idem-2", bodyHash: "h" } });
    expect((await stub.createTask(task(retry))).ok).toBe(true);
    expect(await state(stub, tenant(10_000_000), REAL_NOW)).toMatchObject({ spent_micros: 0, reserved_micros: 2 * PRICE }); // `first` and `retry` held, `other` released
    expect(await state(stub, tenant(10_000_000, "total"))).toMatchObject({ reserved_micros: 3 * PRICE }); // + the one a day later
    for (const r of [first, later, retry]) await stub.submitRefused(r.taskId, { code: "upstream_error", message: "cleanup" });
  });
});

describe("operator views", () => {
  it("adjustments credit and debit the tenant scope; entries export by time", async () => {
    const stub = ledger();
    const t = tenant(PRICE * 3);
    const k = budget("key", "key_a", PRICE * 3);
    const spend = req({ budgets: [t, k], now: NOW - 86_400_000 });
    await stub.reserve(spend);
    await stub.settle(spend.taskId, 900_000, NOW - 86_400_000 + 1);
    const today = req({ budgets: [t, k] });
    await stub.reserve(today);
    await stub.settle(today.taskId, 900_000, NOW);
    expect((await stub.reserve(req({ budgets: [t] }))).ok).toBe(false);

    const credit = await stub.adjust(500_000, "goodwill", NOW + 1, [t, k]);
    expect(credit.budgets).toMatchObject([{ spent_micros: 400_000, remaining_micros: 500_000 }, { spent_micros: 900_000 }]);
    expect((await stub.reserve(req({ budgets: [t, k] }))).ok).toBe(false); // the key budget still binds
    await stub.adjust(-200_000, "late fee", NOW + 2);
    expect(await stub.usage(NOW + 3, [t, budget("tenant", "x", 0, "total")])).toMatchObject([{ spent_micros: 600_000 }, { spent_micros: 1_500_000 }]);
    expect(await failure(() => stub.adjust(0, "nothing", NOW))).toMatch(/zero/);

    const all = (await stub.entries({})).entries;
    expect(all.map((e) => e.type)).toEqual(["reserve", "settle", "reserve", "settle", "adjust", "adjust"]);
    const todays = (await stub.entries({ from: Date.parse("2026-03-10T00:00:00Z"), to: NOW + 2 })).entries;
    expect(todays.map((e) => [e.type, e.amount_micros])).toEqual([
      ["reserve", PRICE],
      ["settle", 900_000],
      ["adjust", 500_000],
    ]);
    expect(todays[1]).toMatchObject({ task_id: today.taskId, key_id: "key_a", reserved_micros: PRICE, at: new Date(NOW).toISOString() });
    expect(todays[2]).toMatchObject({ reason: "goodwill", task_id: null });
    expect((await stub.entries({ limit: 2 })).entries).toHaveLength(2);
  });

  it("listTasks: newest first, paged by an opaque cursor, filtered by status", async () => {
    const stub = ledger();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = req({ now: NOW + i * 1000 });
      await stub.createTask(task(r));
      ids.push(r.taskId);
    }
    for (const i of [1, 3]) await stub.submitRefused(ids[i]!, { code: "invalid_request", message: "refused" });
    await stub.submitRefused(ids[3]!, { code: "invalid_request", message: "again" }); // a finished task stays as it is

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await stub.listTasks({ limit: 2, cursor });
      expect(page.tasks.length).toBeLessThanOrEqual(2);
      seen.push(...page.tasks.map((t) => t.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const failed = await stub.listTasks({ status: "failed", limit: 10 });
    expect(failed).toEqual({
      next_cursor: null,
      tasks: [ids[3], ids[1]].map((id, i) => ({
        id,
        status: "failed",
        model: "hailuo-02-text-to-video-standard",
        key_id: "key_a",
        created_at: new Date(REAL_NOW + (i ? 1000 : 3000)).toISOString(),
        error_code: "invalid_request", // why each failed
      })),
    });
    expect((await stub.listTasks({ status: "pending", limit: 10 })).tasks.map((t) => t.id)).toEqual([ids[4], ids[2], ids[0]]);
    expect(await failure(() => stub.listTasks({ limit: 2, cursor: "not-a-cursor" }))).toMatch(/invalid cursor/);
    for (const id of [ids[0]!, ids[2]!, ids[4]!]) await stub.submitRefused(id, { code: "upstream_error", message: "cleanup" });
  });
});

describe("holds (one request, e.g. a chat completion)", () => {
  it("a hold left open past its limit (its request was lost) is charged its reservation by the alarm; a fresh one is kept", async () => {
    const stub = ledger();
    const lost = req({ now: Date.now() });
    await stub.reserve(lost);
    await runInDurableObject(stub, (instance) => void (instance.clock = () => Date.now() + HOLD_MAX_MS + 60_000));
    const fresh = req({ now: Date.now() });
    await stub.reserve(fresh);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.release(lost.taskId, Date.now(), "again")).toEqual({ released: false });
    const settle = (await stub.entries({})).entries.find((e) => e.type === "settle");
    expect(settle).toMatchObject({ task_id: lost.taskId, amount_micros: PRICE, reserved_micros: PRICE, reason: expect.stringMatching(/lost mid-flight/) });
    expect(await runInDurableObject(stub, (_, ctx) => ctx.storage.getAlarm())).not.toBeNull(); // `fresh` is still open
    expect(await stub.release(fresh.taskId, Date.now(), "done")).toEqual({ released: true });
  });

  it("settle and release touch holds only, never a task's reservation", async () => {
    const stub = ledger();
    const t = req();
    await stub.createTask(task(t));
    expect(await stub.settle(t.taskId, PRICE, NOW)).toEqual({ settled: false, charged_micros: 0 });
    expect(await stub.release(t.taskId, NOW, "no")).toEqual({ released: false });
    await stub.submitRefused(t.taskId, { code: "upstream_error", message: "cleanup" });
  });
});

describe("ledger rules (pure)", () => {
  it("task cursors round-trip and reject anything else", () => {
    const c = { created_at: NOW, task_id: crypto.randomUUID() };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    for (const bad of ["", "x", btoa("[1]"), btoa('["a","b"]')]) expect(decodeCursor(bad)).toBeNull();
  });
});
