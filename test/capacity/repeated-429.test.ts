import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advanceClock, eventually, getTask, json, nonce, simRequests, tenantBudget, tenantWithKey } from "../helpers";
import { capacity, create } from "./drive";

// RunAPI allows 12 tasks in flight, and the proxy knows it (project "capacity").
const UNLIMITED = { limits: { max_concurrent_tasks: null, requests_per_minute: null } };

/** Moves the coordinator's clock by `ms` (past its gap between two cuts). */
async function moveCoordinator(ms: number): Promise<void> {
  await runInDurableObject(env.CAPACITY.get(env.CAPACITY.idFromName("capacity")), (instance) => {
    const was = instance.clock;
    instance.clock = () => was() + ms;
  });
}

describe("a create RunAPI keeps answering 429 (SPEC §14)", () => {
  it("cuts the proxy's limit once, not again at every re-send, and is given up on after its third 429", async () => {
    const { key, tenantId } = await tenantWithKey(UNLIMITED);
    const prompt = `${nonce()} [sim:429]`; // the simulator answers this create 429 (Retry-After: 7) every time
    const res = await create(key, prompt, true);
    expect(res.status).toBe(202);
    const id = (await json(res)).id;
    const cut = (await capacity()).slots.effective;
    expect(cut).toBeLessThan(12);

    for (let sent = 2; sent <= 3; sent++) {
      await moveCoordinator(6_000); // past the gap between two cuts: another 429 could cut again
      await advanceClock(tenantId, 8_000); // past RunAPI's Retry-After: the create is sent again, and refused again
      await eventually(async () => expect(await simRequests(prompt)).toHaveLength(sent));
    }
    expect((await capacity()).slots.effective).toBe(cut);

    // Three 429s: it holds no slot of its tenant's, and no money, any longer.
    await eventually(async () => expect(await getTask(key, id)).toMatchObject({ status: "failed", error_code: "rate_limited", charged_usd: 0 }));
    expect((await getTask(key, id)).error).toMatch(/429 3 times/);
    expect(await tenantBudget(key)).toMatchObject({ reserved_usd: 0 });
  });
});
