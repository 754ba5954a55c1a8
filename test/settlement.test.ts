import { describe, expect, it } from "vitest";
import {
  advanceClock,
  advanceUpstream,
  api,
  deliverCallbacks,
  eventually,
  getTask,
  json,
  ledgerObject,
  me,
  nonce,
  recorded,
  t2v,
  tenantWithKey,
} from "./helpers";

const create = async (key: string, prompt: string) => (await json(await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(prompt) }))).id as string;

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
    const { key, tenantId } = await tenantWithKey();
    const id = await create(key, `${nonce()} [sim:no-callback] [sim:status-garbage]`);
    await recorded(tenantId, id);
    await advanceClock(tenantId, 91_000);
    expect((await getTask(key, id)).status).toBe("pending");
    expect((await me(key)).budgets.tenant.reserved_usd).toBe(0.3);
  });
});

describe("idempotent replay", () => {
  it("never answers 200 for a create that failed, however replays interleave with it", async () => {
    const { key } = await tenantWithKey();
    // RunAPI refuses it (a definite answer: the task is failed and its money released).
    const body = t2v(`${nonce()} [sim:422]`);
    const send = () => api(key, "/api/v1/hailuo/text_to_video", { body, headers: { "Idempotency-Key": "race-fail" } });
    const first = send();
    const replays: Promise<Response>[] = [];
    for (let i = 0; i < 40; i++) {
      replays.push(send());
      await new Promise((r) => setTimeout(r, 1));
    }
    const all = await Promise.all([first, ...replays]);
    expect(all.filter((r) => r.status === 200)).toHaveLength(0);
    expect(all.every((r) => r.status === 400 || r.status === 409)).toBe(true);
    expect((await me(key)).budgets.tenant.reserved_usd).toBe(0);
  });
});
