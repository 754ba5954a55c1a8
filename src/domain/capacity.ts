/**
 * Sharing RunAPI's capacity (SPEC §14), the pure part: weighted max-min fair shares with floors, and the
 * effective limits learned from RunAPI's 429s (cut multiplicatively, raised back slowly).
 */

/** One tenant's claim on a resource: what it wants now, its weight, and the floor it gets first (when it wants that much). */
export interface Claim {
  id: string;
  weight: number;
  floor: number;
  want: number;
}

/** Bisection steps of the water level: far below one unit of any real capacity. */
const LEVEL_STEPS = 64;

/**
 * Weighted max-min fair shares of `capacity` whole units: every claim gets its floor (up to what it wants) first,
 * then the rest is filled level by level in proportion to weight, no claim getting more than it wants. So a tenant
 * that wants less than its share gets what it wants and the rest goes to the others by weight. Integers, summing to
 * at most `capacity` (exactly, when the claims want that much); leftover units go to the largest remainders.
 */
export function fairShares(capacity: number, claims: readonly Claim[]): Map<string, number> {
  const cap = Math.max(0, Math.floor(capacity));
  const wants = claims.map((c) => ({ ...c, want: Math.max(0, Math.floor(c.want)), weight: c.weight > 0 ? c.weight : 1 }));
  const totalWant = wants.reduce((s, c) => s + c.want, 0);
  if (totalWant <= cap) return new Map(wants.map((c) => [c.id, c.want]));
  // Floors first (scaled down fairly themselves when they do not fit), then the water level by weight.
  const floors = wants.map((c) => Math.min(Math.max(0, Math.floor(c.floor)), c.want));
  const floorSum = floors.reduce((s, f) => s + f, 0);
  if (floorSum > cap)
    return fairShares(
      cap,
      wants.map((c, i) => ({ id: c.id, weight: c.weight, floor: 0, want: floors[i]! })),
    );
  const at = (level: number) => wants.map((c, i) => Math.min(c.want, Math.max(floors[i]!, level * c.weight)));
  let lo = 0;
  let hi = Math.max(...wants.map((c) => c.want / c.weight));
  for (let i = 0; i < LEVEL_STEPS; i++) {
    const mid = (lo + hi) / 2;
    if (at(mid).reduce((s, x) => s + x, 0) > cap) hi = mid;
    else lo = mid;
  }
  const exact = at(lo);
  const shares = exact.map((x) => Math.floor(x + 1e-9));
  let left = cap - shares.reduce((s, x) => s + x, 0);
  const order = exact
    .map((x, i) => ({ i, rest: x - shares[i]!, weight: wants[i]!.weight, id: wants[i]!.id }))
    .sort((a, b) => b.rest - a.rest || b.weight - a.weight || (a.id < b.id ? -1 : 1));
  for (const { i } of order) {
    if (left <= 0) break;
    if (shares[i]! < wants[i]!.want) {
      shares[i]! += 1;
      left -= 1;
    }
  }
  return new Map(wants.map((c, i) => [c.id, shares[i]!]));
}

/** The limits in force: the operator's (max), and what the proxy lets itself use now (effective, learned from 429s). */
export interface EffectiveLimit {
  max: number;
  effective: number;
}

/** After a 429, no second cut for this long (one burst of 429s is one signal). */
export const CUT_GAP_MS = 5_000;
/** Without a 429 for this long, the effective limit rises by one step. */
export const RAISE_EVERY_MS = 30_000;

/**
 * RunAPI answered 429 while `inUse` of this resource was in use: the effective limit drops to 90 % of what was in
 * use (RunAPI refused the next one, so its limit is about there), but at most by half per cut: a 429 far below the
 * limit says less about it (RunAPI's other limit, a hiccup), and repeated 429s cut again every CUT_GAP_MS.
 */
export function cutLimit(limit: EffectiveLimit, inUse: number): EffectiveLimit {
  const seen = Math.floor(Math.min(limit.effective, Math.max(inUse, 1)) * 0.9);
  const floor = Math.floor(limit.effective / 2);
  return { ...limit, effective: Math.max(1, Math.min(limit.effective - 1, Math.max(seen, floor))) };
}

/** One step back up: 5 % of the operator's limit (at least 1), never above it. */
export function raiseLimit(limit: EffectiveLimit): EffectiveLimit {
  return { ...limit, effective: Math.min(limit.max, limit.effective + Math.max(1, Math.ceil(limit.max * 0.05))) };
}

/**
 * Which resource a 429 most likely came from: concurrency when the tasks in flight were near its effective limit,
 * else the request rate (RunAPI's 429 does not say which of its limits it met).
 */
export function throttledResource(slotsInUse: number, slots: EffectiveLimit | null, rateInUse: number, rate: EffectiveLimit | null): "slots" | "rate" {
  if (!rate) return "slots";
  if (!slots) return "rate";
  const slotLoad = slotsInUse / Math.max(1, slots.effective);
  const rateLoad = rateInUse / Math.max(1, rate.effective);
  return slotLoad >= rateLoad ? "slots" : "rate";
}

/** One tenant as the coordinator knows it, from its last report. */
export interface Holder {
  id: string;
  weight: number;
  floor: number;
  active: number;
  queued: number;
  rateUsed: number;
  /** What it needs (slots), the headroom it would like, and whether it sends creates (it then gets a split of the rate). */
  want: { slots: number; headroom: number; rate: boolean };
  /** What it may use: slots it enforces until its own report lowers them; the rate last granted. */
  held: { slots: number; rate: number };
  seenAt: number;
}

/** The two resources: tasks in flight (slots) and creates per minute (rate). */
export type Resource = "slots" | "rate";
/** The upstream's limits in force, per resource; null: not limited. */
export type Limits = Record<Resource, EffectiveLimit | null>;
/** Every holder's fair target, per resource. */
export type Targets = Record<Resource, Map<string, number>>;

/**
 * Every holder's fair target. Slots: what tenants need is shared first (floors, then weighted max-min), and only what
 * no one needs goes to headroom, shared the same way. Rate: a weighted split among the tenants that send creates
 * (a rate is not held by tasks in flight, so lending it would buy nothing a split does not).
 */
export function targetsOf(holders: readonly Holder[], limits: Limits): Targets {
  const slots = new Map<string, number>();
  if (limits.slots) {
    const need = fairShares(
      limits.slots.effective,
      holders.map((h) => ({ id: h.id, weight: h.weight, floor: h.floor, want: h.want.slots })),
    );
    const left = limits.slots.effective - [...need.values()].reduce((s, x) => s + x, 0);
    const extra = fairShares(
      left,
      holders.map((h) => ({ id: h.id, weight: h.weight, floor: 0, want: h.want.headroom })),
    );
    for (const h of holders) slots.set(h.id, (need.get(h.id) ?? 0) + (extra.get(h.id) ?? 0));
  }
  const rate = limits.rate
    ? fairShares(
        limits.rate.effective,
        holders.map((h) => ({ id: h.id, weight: h.weight, floor: 0, want: h.want.rate ? limits.rate!.effective : 0 })),
      )
    : new Map<string, number>();
  return { slots, rate };
}

/** What is left of the effective slot limit once every holder's slots are counted (negative after a cut, until tasks end). */
export function freeSlots(holders: readonly Holder[], limit: EffectiveLimit): number {
  return limit.effective - holders.reduce((s, h) => s + h.held.slots, 0);
}

/**
 * What `holder` holds after asking: slots up to its fair target from what no one holds, never fewer than it holds (what
 * is above its target comes back only when it gives it back, as its tasks end); the rate of its target.
 */
export function grantFor(holder: Holder, holders: readonly Holder[], limits: Limits, targets: Targets): { slots: number; rate: number } {
  let slots = holder.held.slots;
  if (limits.slots) {
    const room = (targets.slots.get(holder.id) ?? 0) - slots;
    const free = freeSlots(holders, limits.slots);
    if (room > 0 && free > 0) slots += Math.min(room, free);
  }
  return { slots, rate: limits.rate ? (targets.rate.get(holder.id) ?? 0) : 0 };
}

/** Holders that want more slots than they hold within their fair target. */
export function waiting(holders: readonly Holder[], limits: Limits, targets: Targets): Holder[] {
  return limits.slots ? holders.filter((h) => (targets.slots.get(h.id) ?? 0) > h.held.slots) : [];
}

/** Holders above their fair target (slots they give back as their tasks end; a rate they lower at once when told). */
export function lending(holders: readonly Holder[], limits: Limits, targets: Targets): Holder[] {
  return holders.filter((h) => (limits.slots && h.held.slots > (targets.slots.get(h.id) ?? 0)) || (limits.rate && h.held.rate > (targets.rate.get(h.id) ?? 0)));
}

/** Slots other holders keep idle above their target: what waiters get back as soon as those holders report. */
export function reclaimable(holders: readonly Holder[], targets: Targets, except: string): number {
  return holders.filter((h) => h.id !== except).reduce((s, h) => s + Math.max(0, h.held.slots - Math.max(h.active, targets.slots.get(h.id) ?? 0)), 0);
}
