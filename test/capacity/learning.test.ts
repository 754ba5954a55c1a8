import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advanceClock, eventually, expectError, getTask, json, nonce, tenantBudget, tenantWithKey, upstreamIdOf } from "../helpers";
import { capacity, create, drain, finish, inFlightAtRunApi, simLimits } from "./drive";

// The proxy is told RunAPI allows 12 tasks in flight (project "capacity"); here RunAPI allows only 6.
const UNLIMITED = { limits: { max_concurrent_tasks: null, requests_per_minute: null } };
const coordinator = () => env.CAPACITY.get(env.CAPACITY.idFromName("capacity"));

describe("RunAPI's limit is lower than the operator said (SPEC §14)", () => {
  it("its 429s lower the proxy's limit, a queued create RunAPI refused is sent again later, and the limit climbs back slowly", async () => {
    await simLimits({ max_concurrent: 6, reset_stats: true });
    const { key, tenantId } = await tenantWithKey(UNLIMITED);
    const outcomes: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) {
      const res = await create(key, nonce(), true);
      outcomes.push(res.status);
      ids.push((await json(res)).id);
    }
    // Six run; the seventh met RunAPI's 429 and is held to be sent again; after the cut the rest wait their turn.
    expect(outcomes.slice(0, 6)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(outcomes.slice(6)).toEqual([202, 202, 202]);
    const seventh = await getTask(key, ids[6]!);
    expect(seventh.status).toBe("pending");
    expect(await upstreamIdOf(ids[6]!)).toBeNull();
    const cut = await capacity();
    expect(cut.slots.effective).toBeLessThanOrEqual(6);
    expect(cut.slots.max).toBe(12);
    expect((await simLimits()).refused).toBe(1); // one 429, then the proxy held back
    expect(await tenantBudget(key)).toMatchObject({ reserved_usd: 2.7 });

    // RunAPI finishes two tasks; the one it refused is sent again after its Retry-After, the queue follows.
    await finish(key, (await inFlightAtRunApi(key)).slice(0, 2), tenantId);
    await advanceClock(tenantId, 61_000);
    await eventually(async () => expect(await upstreamIdOf(ids[6]!)).not.toBeNull(), 15_000);
    expect((await simLimits()).refused).toBe(1);

    // 30 s without a 429: one step back up (5 % of the operator's 12, at least 1), and again every 30 s.
    const before = (await capacity()).slots.effective;
    await runInDurableObject(coordinator(), (instance) => {
      const was = instance.clock;
      instance.clock = () => was() + 31_000;
    });
    await runDurableObjectAlarm(coordinator());
    expect((await capacity()).slots.effective).toBe(before + 1);

    await simLimits({ max_concurrent: 12 });
    await drain({ key, tenantId }); // the tenant's clock was moved: its alarms are run, not waited for
    const done = await Promise.all(ids.map((id) => getTask(key, id)));
    expect(done.map((t) => t.status)).toEqual(ids.map(() => "completed"));
  });

  it("a create that does not queue and meets RunAPI's 429 is refused 429 upstream_capacity, holding nothing", async () => {
    const { key } = await tenantWithKey(UNLIMITED);
    const error = await expectError(await create(key, `${nonce()} [sim:429]`), 429, "rate_limited");
    expect(error.details).toMatchObject({ reason: "upstream_capacity", task_id: expect.any(String) });
    expect(await getTask(key, error.details.task_id)).toMatchObject({ status: "failed", charged_usd: 0 });
    expect(await tenantBudget(key)).toMatchObject({ reserved_usd: 0 });
  });
});
