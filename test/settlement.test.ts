import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { VideoTask } from "../src/durable-objects/task";
import type { TaskRecord } from "../src/domain/task-record";
import { advanceUpstream, api, deliverCallbacks, eventually, getTask, json, ledgerObject, me, nonce, t2v, taskObject, tenantWithKey } from "./helpers";

const create = async (key: string, prompt: string) => (await json(await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(prompt) }))).id as string;

/** Runs the task's alarm with RunAPI answering `answer` to its status poll. */
async function pollWith(id: string, answer: () => Response) {
  await runInDurableObject(taskObject(id) as DurableObjectStub<VideoTask>, async (instance, state) => {
    const o = instance as unknown as { env: typeof env; alarm(): Promise<void> };
    state.storage.kv.put("task", { ...state.storage.kv.get<object>("task")!, next_poll_at: 0 });
    const saved = o.env;
    o.env = { ...saved, RUNAPI: { fetch: async () => answer() } } as unknown as typeof env;
    try {
      await o.alarm();
    } finally {
      o.env = saved;
    }
  });
}

describe("what a task costs", () => {
  it("a reported cost above the reservation is capped at the reservation, and the overage noted for the operator", async () => {
    const { key, tenantId } = await tenantWithKey({ budget: { limit_usd: 0.3, period: "total" } });
    const id = await create(key, nonce());
    await deliverCallbacks(await advanceUpstream(id, { status: "completed", cost_cents: 500 }));
    await eventually(async () => expect((await getTask(key, id)).charged_usd).toBe(0.3));
    expect((await me(key)).budgets.tenant).toMatchObject({ spent_usd: 0.3, limit_usd: 0.3, reserved_usd: 0 });
    const settle = (await ledgerObject(tenantId).entries({})).entries.find((e) => e.type === "settle");
    expect(settle).toMatchObject({ amount_micros: 300_000, reason: "RunAPI reported 5.000000 USD; charged the 0.300000 USD reserved" });
  });

  it("an absurd reported cost is ignored: the estimate is charged and reads keep working", async () => {
    const { key, tenantId } = await tenantWithKey();
    const id = await create(key, nonce());
    await deliverCallbacks(await advanceUpstream(id, { status: "completed", cost_cents: 1e12 }));
    await eventually(async () => expect((await getTask(key, id)).status).toBe("completed"));
    const res = await api(key, `/api/v1/tasks/${id}`);
    expect(res.status).toBe(200);
    expect((await json(res)).charged_usd).toBe(0.3);
    // Ignored, not merely capped: no overage is booked for a cost nobody should believe.
    const settle = (await ledgerObject(tenantId).entries({})).entries.find((e) => e.type === "settle");
    expect(settle).toMatchObject({ amount_micros: 300_000, reason: null });
  });

  it("a status answer that is not a task is a transient fault: the task and its reservation stay open", async () => {
    const { key } = await tenantWithKey();
    const id = await create(key, `${nonce()} [sim:no-callback]`);
    await pollWith(id, () => Response.json({ id: "x", status: "queued" }));
    expect((await getTask(key, id)).status).toBe("pending");
    expect((await me(key)).budgets.tenant.reserved_usd).toBe(0.3);
  });
});

describe("idempotent replay", () => {
  it("never answers 200 for a create that failed, however replays interleave with it", async () => {
    const { key } = await tenantWithKey();
    const body = t2v(`${nonce()} [sim:500]`);
    const send = () => api(key, "/api/v1/hailuo/text_to_video", { body, headers: { "Idempotency-Key": "race-fail" } });
    const first = send();
    const replays: Promise<Response>[] = [];
    for (let i = 0; i < 40; i++) {
      replays.push(send());
      await new Promise((r) => setTimeout(r, 1));
    }
    const all = await Promise.all([first, ...replays]);
    expect(all.filter((r) => r.status === 200)).toHaveLength(0);
    expect(all.every((r) => r.status === 502 || r.status === 409)).toBe(true);
    expect((await me(key)).budgets.tenant.reserved_usd).toBe(0);
  });
});

describe("expiry and a slow create", () => {
  it("an expiry falling due while the create is in flight waits for it, so an accepted task keeps its reservation", async () => {
    const { key, keyId, tenantId } = await tenantWithKey();
    const id = crypto.randomUUID();
    const ttlMs = 3600_000; // vitest config default
    const now = Date.now() - ttlMs + 50; // the deadline falls while RunAPI is still answering the create
    const budgets = [{ scope: "tenant" as const, subject: tenantId, limit_micros: 100_000_000, period: "month" as const }];
    expect((await ledgerObject(tenantId).reserve({ taskId: id, keyId, endUser: null, model: "hailuo-02-text-to-video-standard", amountMicros: 300_000, now: Date.now(), budgets, maxConcurrentTasks: null, requestsPerMinute: null, idempotency: null })).ok).toBe(true);
    const request = { endpoint: "text_to_video", model: "hailuo-02-text-to-video-standard", prompt: "slow create", duration_seconds: 6, output_resolution: "768p" };
    const result = await runInDurableObject(taskObject(id), async (instance, state) => {
      const o = instance as unknown as { env: typeof env; start(i: unknown): Promise<any>; alarm(): Promise<void> };
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const saved = o.env;
      o.env = { ...saved, RUNAPI: { fetch: async () => { await gate; return Response.json({ id: crypto.randomUUID(), status: "pending" }); } } } as unknown as typeof env;
      try {
        const started = o.start({ id, tenantId, keyId, endUser: null, endpoint: "text_to_video", request, estimateMicros: 300_000, priceSource: "table", callbackUrl: "https://proxy.test/cb", notifyUrl: null, now });
        while (!state.storage.kv.get("task")) await new Promise((r) => setTimeout(r, 5));
        await new Promise((r) => setTimeout(r, 100));
        await o.alarm(); // the armed TTL alarm runs while the create is in flight
        release();
        return { started: await started, record: state.storage.kv.get<TaskRecord>("task")! };
      } finally {
        o.env = saved;
      }
    });
    expect(result.started.ok).toBe(true);
    expect(result.record).toMatchObject({ status: "pending", ledger: "open" });
    expect(result.record.upstream_id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await me(key)).budgets.tenant).toMatchObject({ reserved_usd: 0.3, spent_usd: 0 });
  });
});
