import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  advanceClock,
  advanceUpstream,
  api,
  deliverCallbacks,
  eventually,
  expectError,
  getTask,
  json,
  nonce,
  simRequests,
  streamReader,
  tenantBudget,
  tenantWithKey,
  upstreamIdOf,
  webhookReceiver,
} from "../helpers";
import { create, drain, finish, inFlightAtRunApi, tasksWith } from "./drive";

// RunAPI allows 12 tasks in flight (project "capacity"). A filler tenant takes all of them, so what others send queues.
const HOOK = "https://hooks.tenant.test/runapi";
const UNLIMITED = { limits: { max_concurrent_tasks: null, requests_per_minute: null } };

/** A tenant running RunAPI's whole capacity (12 tasks); `free(n)` has RunAPI finish `n` of them. */
async function filler() {
  const t = await tenantWithKey(UNLIMITED);
  for (let i = 0; i < 12; i++) expect((await create(t.key, nonce())).status).toBe(200);
  const free = async (n: number) => finish(t.key, (await inFlightAtRunApi(t.key)).slice(0, n));
  return { ...t, free };
}

afterEach(() => vi.restoreAllMocks());

describe("a queued task (SPEC §14)", () => {
  it("reads, lists and streams as queued, then pending; the tenant's webhook hears it start, then end", async () => {
    const received = webhookReceiver(HOOK);
    const busy = await filler();
    const { key, webhookSecret } = await tenantWithKey({ ...UNLIMITED, webhook_url: HOOK });
    const id = (await json(await create(key, nonce(), true))).id;
    expect(await getTask(key, id)).toMatchObject({ status: "queued", charged_usd: null });
    expect(await tasksWith(key, "queued")).toEqual([id]);
    const stream = streamReader(await api(key, `/api/v1/tasks/${id}/events`));
    await stream.until('"status":"queued"');

    await busy.free(1); // the filler gives the freed slot back: this tenant wants its share
    await stream.until('"status":"pending"');
    await eventually(async () => expect(await upstreamIdOf(id)).not.toBeNull());
    await eventually(async () => expect(received.some((r) => r.headers["webhook-id"] === `msg_${id}_started`)).toBe(true));
    const started = received.find((r) => r.headers["webhook-id"] === `msg_${id}_started`)!;
    expect(new Webhook(webhookSecret).verify(started.body, started.headers)).toMatchObject({ id, status: "pending" });

    await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
    await stream.until('"status":"completed"');
    const statuses = [...(await stream.rest()).matchAll(/"status":"(\w+)"/g)].map((m) => m[1]);
    expect(statuses).toEqual(["queued", "pending", "completed"]);
    await eventually(async () => expect(received.some((r) => r.headers["webhook-id"] === `msg_${id}`)).toBe(true));
    const ended = received.find((r) => r.headers["webhook-id"] === `msg_${id}`)!;
    expect(new Webhook(webhookSecret).verify(ended.body, ended.headers)).toMatchObject({ id, status: "completed", charged_usd: 0.3 });
    await drain(busy.key, key);
  });

  it("counts against max_concurrent_tasks and the budget like any task", async () => {
    const busy = await filler();
    const { key } = await tenantWithKey({ limits: { max_concurrent_tasks: 3, requests_per_minute: null }, budget: { limit_usd: 10, period: "month" } });
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const res = await create(key, nonce(), true);
      expect(res.status).toBe(202);
      ids.push((await json(res)).id);
    }
    const fourth = await expectError(await create(key, nonce(), true), 429, "rate_limited");
    expect(fourth.details).toMatchObject({ limit: "max_concurrent_tasks" });
    expect(await tenantBudget(key)).toMatchObject({ reserved_usd: 0.9 });

    const poor = await tenantWithKey({ ...UNLIMITED, budget: { limit_usd: 0.5, period: "month" } });
    expect((await create(poor.key, nonce(), true)).status).toBe(202);
    await expectError(await create(poor.key, nonce(), true), 402, "budget_exceeded");

    await drain(busy.key, key, poor.key);
  });

  it("a replay with the same Idempotency-Key answers the same queued task, 202, holding nothing more", async () => {
    const busy = await filler();
    const { key } = await tenantWithKey(UNLIMITED);
    const send = () => create(key, "the same request", true, { "Idempotency-Key": "once" });
    const first = await send();
    expect(first.status).toBe(202);
    const second = await send();
    expect(second.status).toBe(202);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await json(second)).toMatchObject({ id: (await json(first)).id, status: "queued" });
    expect(await tenantBudget(key)).toMatchObject({ reserved_usd: 0.3 });
    await drain(busy.key, key);
  });

  it("starts in the order it was created", async () => {
    const busy = await filler();
    const { key } = await tenantWithKey(UNLIMITED);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await json(await create(key, nonce(), true))).id);
    for (let i = 0; i < 3; i++) {
      await busy.free(1);
      await eventually(async () => expect(await upstreamIdOf(ids[i]!)).not.toBeNull(), 15_000);
      for (const later of ids.slice(i + 1)) expect(await upstreamIdOf(later)).toBeNull();
    }
    await drain(busy.key, key);
  });

  it("expires per SPEC §5: failed with task_expired at its TTL, released, never sent", async () => {
    const busy = await filler();
    const { key, tenantId } = await tenantWithKey(UNLIMITED);
    const prompt = nonce();
    const id = (await json(await create(key, prompt, true))).id;
    await advanceClock(tenantId, 3_600_000 + 120_000);
    await eventually(async () => expect(await getTask(key, id)).toMatchObject({ status: "failed", error_code: "task_expired", charged_usd: 0 }));
    expect((await getTask(key, id)).error).toMatch(/queue/);
    expect(await tenantBudget(key)).toMatchObject({ reserved_usd: 0, spent_usd: 0 });
    expect(await simRequests(prompt)).toHaveLength(0);
    await drain(busy.key);
  });

  it("has its whole TTL at RunAPI from when it starts: the wait in the queue does not shorten it", async () => {
    const busy = await filler();
    const { key, tenantId } = await tenantWithKey(UNLIMITED);
    const id = (await json(await create(key, nonce(), true))).id;
    await advanceClock(tenantId, 3_000_000); // 50 of its 60 minutes spent waiting
    expect((await getTask(key, id)).status).toBe("queued");
    await busy.free(1);
    await eventually(async () => expect(await upstreamIdOf(id)).not.toBeNull(), 15_000);
    await advanceClock(tenantId, 1_200_000); // 70 minutes after its creation, 20 after it was sent
    expect((await getTask(key, id)).status).toBe("pending");
    await finish(key, [id], tenantId);
    expect(await getTask(key, id)).toMatchObject({ status: "completed", charged_usd: 0.3 });
    await drain(busy.key);
  });

  it("queues by the tenant's default (queue: true) without a header; Prefer: queue=never refuses instead", async () => {
    const busy = await filler();
    const { key } = await tenantWithKey({ ...UNLIMITED, queue: true });
    const refused = await expectError(await create(key, nonce(), false, { Prefer: "queue=never" }), 429, "rate_limited");
    expect(refused.details.reason).toBe("upstream_capacity");
    expect(await json(await create(key, nonce()))).toMatchObject({ status: "queued" });
    await drain(busy.key, key);
  });
});
