import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { VideoTask } from "../src/durable-objects/task";
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
    const { key } = await tenantWithKey();
    const id = await create(key, nonce());
    await deliverCallbacks(await advanceUpstream(id, { status: "completed", cost_cents: 1e12 }));
    await eventually(async () => expect((await getTask(key, id)).status).toBe("completed"));
    const res = await api(key, `/api/v1/tasks/${id}`);
    expect(res.status).toBe(200);
    expect((await json(res)).charged_usd).toBe(0.3);
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
