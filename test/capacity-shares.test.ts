import { describe, expect, it } from "vitest";
import { cutLimit, fairShares, grantFor, type Holder, raiseLimit, targetsOf, throttledResource } from "../src/domain/capacity";
import { decide, kept, type Lease, NO_LEASE, owes, startable, wanted } from "../src/domain/capacity-lease";
import { CapacityUsage } from "../src/domain/capacity-usage";

// SPEC §14, the pure rules: weighted max-min shares, what a tenant keeps and asks, what a 429 teaches.

const claim = (id: string, want: number, weight = 1, floor = 0) => ({ id, want, weight, floor });
const sum = (m: Map<string, number>) => [...m.values()].reduce((s, x) => s + x, 0);

describe("weighted max-min fair shares", () => {
  it("gives everyone what it wants when it all fits", () => {
    expect([...fairShares(12, [claim("a", 3), claim("b", 4)])]).toEqual([
      ["a", 3],
      ["b", 4],
    ]);
  });

  it("splits by weight when all want more than there is: 1 : 2 : 3 of 12 is 2, 4, 6", () => {
    const shares = fairShares(12, [claim("a", 100, 1), claim("b", 100, 2), claim("c", 100, 3)]);
    expect(Object.fromEntries(shares)).toEqual({ a: 2, b: 4, c: 6 });
  });

  it("lends what a small tenant leaves to the others, by weight (max-min)", () => {
    const shares = fairShares(12, [claim("small", 1), claim("a", 100), claim("b", 100, 2)]);
    expect(Object.fromEntries(shares)).toEqual({ small: 1, a: 4, b: 7 }); // 11 left: 11/3 and 22/3, rounded to the largest remainder
  });

  it("serves floors first, never beyond what a tenant wants", () => {
    const shares = fairShares(10, [claim("vip", 100, 1, 6), claim("a", 100), claim("b", 100), claim("idle", 0, 1, 5)]);
    expect(Object.fromEntries(shares)).toEqual({ vip: 6, a: 2, b: 2, idle: 0 });
  });

  it("scales floors down fairly when they do not fit together", () => {
    const shares = fairShares(4, [claim("a", 10, 1, 4), claim("b", 10, 1, 4)]);
    expect(Object.fromEntries(shares)).toEqual({ a: 2, b: 2 });
  });

  it.each([
    [7, [3, 5, 11]],
    [13, [1, 1, 1, 1, 100]],
    [100, [33, 33, 33, 33]],
    [1, [5, 5, 5]],
  ])("sums to the capacity (%i) when wanted, in whole units, each within what it wants", (capacity, wants) => {
    const claims = wants.map((w, i) => claim(`t${i}`, w, (i % 3) + 1));
    const shares = fairShares(capacity, claims);
    expect(sum(shares)).toBe(
      Math.min(
        capacity,
        wants.reduce((s, w) => s + w, 0),
      ),
    );
    for (const c of claims) {
      expect(Number.isInteger(shares.get(c.id))).toBe(true);
      expect(shares.get(c.id)).toBeLessThanOrEqual(c.want);
    }
  });
});

describe("the coordinator's targets and grants", () => {
  const holder = (id: string, need: number, held: number, extra: Partial<Holder> = {}): Holder => ({
    id,
    weight: 1,
    floor: 0,
    active: held,
    queued: 0,
    rateUsed: 0,
    want: { slots: need, headroom: 2, rate: true },
    held: { slots: held, rate: 0 },
    seenAt: 0,
    ...extra,
  });
  const limits = { slots: { max: 12, effective: 12 }, rate: { max: 600, effective: 600 } };

  it("serves what tenants need before anyone's headroom", () => {
    const targets = targetsOf([holder("idle", 0, 2, { active: 0 }), holder("busy", 11, 10)], limits);
    expect(targets.slots.get("busy")).toBeGreaterThanOrEqual(11); // all it needs
    expect(targets.slots.get("idle")! + targets.slots.get("busy")!).toBe(12); // the one left is headroom, shared
  });

  it("grants up to the target from what no one holds, and never takes back what a tenant holds", () => {
    const all = [holder("a", 10, 8), holder("b", 10, 2)];
    const targets = targetsOf(all, limits);
    expect(grantFor(all[1]!, all, limits, targets).slots).toBe(4); // target 6, but only 2 are free
    expect(grantFor(all[0]!, all, limits, targets).slots).toBe(8); // above its target 6: kept until it gives back
  });

  it("splits the rate by weight among the tenants that send creates", () => {
    const targets = targetsOf(
      [holder("a", 1, 0), holder("b", 1, 0, { weight: 2 }), holder("quiet", 0, 0, { want: { slots: 0, headroom: 0, rate: false } })],
      limits,
    );
    expect(Object.fromEntries(targets.rate)).toEqual({ a: 200, b: 400, quiet: 0 });
  });
});

describe("a tenant's lease", () => {
  const lease = (over: Partial<Lease> = {}): Lease => ({ ...NO_LEASE, slots: 4, targetSlots: 4, limited: { slots: true, rate: false }, syncedAt: 1, ...over });

  it("sends within the lease, queues or refuses beyond it, and never lets a create overtake the queue", () => {
    const base = { lease: lease(), tokens: 0, valid: true, wantsQueue: false };
    expect(decide({ ...base, active: 3, queued: 0 })).toEqual({ kind: "submit" });
    expect(decide({ ...base, active: 4, queued: 0 })).toEqual({ kind: "refuse" });
    expect(decide({ ...base, active: 4, queued: 0, wantsQueue: true })).toEqual({ kind: "queue" });
    expect(decide({ ...base, active: 1, queued: 2 })).toEqual({ kind: "refuse" });
    expect(decide({ ...base, active: 0, queued: 0, valid: false })).toEqual({ kind: "refuse" });
  });

  it("starts as many queued tasks as free slots and rate tokens allow", () => {
    expect(startable({ lease: lease(), active: 1, queued: 5, tokens: 0, valid: true })).toBe(3);
    expect(startable({ lease: lease({ limited: { slots: true, rate: true }, rate: 60 }), active: 1, queued: 5, tokens: 2.5, valid: true })).toBe(2);
  });

  it("keeps what it uses and wants; while others wait only its target; gives the rest back", () => {
    const want = wanted({ active: 2, queued: 0, refused: 0, recent: true });
    expect(want).toEqual({ slots: 2, headroom: 2, rate: true });
    expect(kept(lease({ slots: 8, targetSlots: 8 }), 2, want).slots).toBe(4);
    expect(kept(lease({ slots: 8, targetSlots: 3, contended: true }), 2, want).slots).toBe(3);
    expect(kept(lease({ slots: 8, targetSlots: 1, contended: true }), 5, want).slots).toBe(5); // in use: kept until its tasks end
    expect(owes(lease({ contended: true }), { slots: 3 }, { slots: 4 })).toBe(true);
    expect(owes(lease(), { slots: 3 }, { slots: 4 })).toBe(false); // nobody waits: one slot is not worth a report
  });
});

describe("what RunAPI's 429 teaches", () => {
  it("cuts to 90 % of what was in use, at most by half; rises back 5 % of the operator's limit a step", () => {
    expect(cutLimit({ max: 50, effective: 50 }, 40)).toEqual({ max: 50, effective: 36 });
    expect(cutLimit({ max: 50, effective: 50 }, 2)).toEqual({ max: 50, effective: 25 });
    expect(cutLimit({ max: 50, effective: 1 }, 1)).toEqual({ max: 50, effective: 1 });
    expect(raiseLimit({ max: 50, effective: 36 })).toEqual({ max: 50, effective: 39 });
    expect(raiseLimit({ max: 50, effective: 49 })).toEqual({ max: 50, effective: 50 });
  });

  it("blames the resource nearer its limit", () => {
    expect(throttledResource(45, { max: 50, effective: 50 }, 10, { max: 600, effective: 600 })).toBe("slots");
    expect(throttledResource(5, { max: 50, effective: 50 }, 590, { max: 600, effective: 600 })).toBe("rate");
  });
});

describe("a tenant's own counts", () => {
  it("counts tasks in flight and queued through their moves, and a slot freed only when a running task ends", () => {
    const use = new CapacityUsage();
    use.reset({ active: 1, queued: 2 }, 0, 0);
    expect(use.moved("queued", "pending", 0, 10)).toBe(false);
    expect([use.active, use.queued]).toEqual([2, 1]);
    expect(use.moved("pending", "completed", 0, 60_000)).toBe(true);
    expect(use.moved("queued", "failed", 0, 60_000)).toBe(false); // expired in the queue: never held a slot
    expect([use.active, use.queued]).toEqual([1, 0]);
  });

  it("remembers refusals 10 s and counts creates sent in the last minute", () => {
    const use = new CapacityUsage();
    use.refused(1_000);
    use.refused(2_000);
    expect(use.refusedLately(5_000)).toBe(2);
    expect(use.refusedLately(11_500)).toBe(1);
    use.spend(3, null, 0);
    use.spend(2, null, 30_000);
    expect(use.sentLastMinute(45_000)).toBe(5);
    expect(use.sentLastMinute(65_000)).toBe(2);
  });
});
