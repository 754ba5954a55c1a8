import { describe, expect, it } from "vitest";
import { api, eventually, ledgerObject, newKey, nonce, t2v, tenantWithKey } from "../helpers";
import { capacity, create, drain, finish, inFlightAtRunApi, share, simLimits, tasksWith } from "./drive";

// RunAPI's account allows 12 tasks in flight; the proxy knows it (project "capacity" in vitest.config.ts).
const CAPACITY = 12;
const ORIGIN = "https://demo.example";
const UNLIMITED = { limits: { max_concurrent_tasks: null, requests_per_minute: null } };

/** The simulator's in-flight count reaches what the tenants' demand allows (capacity is never left idle while someone waits). */
async function busy(keys: string[]): Promise<void> {
  await eventually(async () => {
    const seen: { queued: number; running: number }[] = [];
    for (const key of keys) seen.push({ queued: (await tasksWith(key, "queued")).length, running: (await inFlightAtRunApi(key)).length });
    const unfinished = seen.reduce((s, t) => s + t.queued + t.running, 0);
    const inFlight = (await simLimits()).in_flight;
    if (inFlight !== Math.min(CAPACITY, unfinished)) throw new Error(`RunAPI runs ${inFlight}: ${JSON.stringify({ seen, capacity: await capacity() })}`);
  }, 20_000);
}

describe("sharing RunAPI's capacity (SPEC §14)", () => {
  it("a public key flooding from 60 visitors takes what is idle, and gives three other tenants their share as its tasks end", async () => {
    // The attack of issue 18: one publishable key, many visitor IPs, RunAPI's whole capacity.
    const flooder = await tenantWithKey(UNLIMITED);
    const pk = (await newKey(flooder.tenantId, { kind: "publishable", allowed_origins: [ORIGIN] })).key;
    const flood = (n: number, from: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          api(pk, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()), headers: { Origin: ORIGIN, "CF-Connecting-IP": `198.51.100.${from + i}` } }),
        ),
      );
    const first = await flood(30, 1);
    expect(first.filter((r) => r.status === 200)).toHaveLength(CAPACITY); // idle capacity is lent: all of it
    expect(first.filter((r) => r.status === 429)).toHaveLength(30 - CAPACITY);

    // Three tenants arrive, 6 creates each, willing to wait; the flood goes on.
    const others = [await tenantWithKey(UNLIMITED), await tenantWithKey(UNLIMITED), await tenantWithKey(UNLIMITED)];
    for (const t of others) for (let i = 0; i < 6; i++) expect((await create(t.key, nonce(), true)).status).toBe(202);
    const fair = CAPACITY / 4; // four tenants want more than 3 each
    for (let round = 0; round < 6; round++) {
      // RunAPI finishes the flooder's oldest tasks; the flood sends as many again.
      const running = await inFlightAtRunApi(flooder.key);
      await finish(flooder.key, running.slice(0, 3));
      await flood(10, 100 + round * 10);
      await busy([flooder.key, ...others.map((t) => t.key)]);
    }
    // The flooder holds no more than its share now; each other tenant runs its share (or all it still has).
    expect((await inFlightAtRunApi(flooder.key)).length).toBeLessThanOrEqual(fair);
    for (const t of others) {
      const unfinished = (await tasksWith(t.key, "queued")).length + (await inFlightAtRunApi(t.key)).length;
      expect((await inFlightAtRunApi(t.key)).length).toBeGreaterThanOrEqual(Math.min(fair, unfinished));
    }
    const limits = await simLimits();
    expect(limits.peak_in_flight).toBeLessThanOrEqual(CAPACITY);
    expect(limits.refused).toBe(0); // RunAPI never had to say no
    await drain(flooder.key, ...others.map((t) => t.key));
  }, 180_000);

  it("weights 1 : 2 : 3 hold within ±25 % over a run, every queued task completes and is charged once", async () => {
    const weights = [1, 2, 3];
    const tenants = await Promise.all(weights.map((w) => tenantWithKey({ ...UNLIMITED, capacity_weight: w, queue: true })));
    const backlog = [18, 30, 44];
    // Creates arrive interleaved, as they would from three busy apps; beyond their shares they wait (the tenants' default).
    for (let i = 0; i < Math.max(...backlog); i++) {
      for (const [t, tenant] of tenants.entries()) if (i < backlog[t]!) expect([200, 202]).toContain((await create(tenant.key, nonce())).status);
    }
    // Round 0 is what each had when contention began (capacity lent while the others were not asking yet): it
    // comes back as those tasks end, and is not counted. Rounds 1 to 6 are the run.
    const done = weights.map(() => 0);
    for (let round = 0; round <= 6; round++) {
      await busy(tenants.map((t) => t.key));
      // RunAPI finishes everything in flight at once: what each tenant had running is its share this round.
      const runs = [];
      for (const tenant of tenants) runs.push(await inFlightAtRunApi(tenant.key));
      // Mid-run, every tenant still has a backlog: the coordinator's targets are the weights' shares of 12.
      if (round === 3) for (const [t, tenant] of tenants.entries()) expect((await share(tenant.tenantId)).target_slots).toBe(2 * weights[t]!);
      for (const [t, tenant] of tenants.entries()) {
        if (round > 0) done[t]! += runs[t]!.length;
        await finish(tenant.key, runs[t]!);
      }
    }
    const total = done.reduce((s, x) => s + x, 0);
    const sumW = weights.reduce((s, x) => s + x, 0);
    for (const [t, w] of weights.entries()) {
      const expected = (total * w) / sumW;
      expect(Math.abs(done[t]! - expected) / expected, `tenant of weight ${w}: ${done[t]} of ${total}`).toBeLessThanOrEqual(0.25);
    }

    await drain(...tenants.map((t) => t.key));
    for (const [t, tenant] of tenants.entries()) {
      const completed = await tasksWith(tenant.key, "completed");
      expect(completed).toHaveLength(backlog[t]!);
      const { entries } = await ledgerObject(tenant.tenantId).entries({ limit: 10_000 });
      for (const id of completed) {
        expect(entries.filter((e) => e.task_id === id).map((e) => e.type)).toEqual(["reserve", "settle"]);
      }
      expect((await ledgerObject(tenant.tenantId).totalsCheck()).ok).toBe(true);
    }
    const limits = await simLimits();
    expect(limits.peak_in_flight).toBeLessThanOrEqual(CAPACITY);
    expect(limits.refused).toBe(0);
  }, 240_000);
});
