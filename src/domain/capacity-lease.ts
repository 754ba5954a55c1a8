/**
 * A tenant's lease on RunAPI's capacity (SPEC §14), the pure part its object decides with: the slots (tasks in flight
 * at RunAPI) and the rate (creates per minute) the coordinator granted it, and what a create does within them.
 */

/** How long a lease may be used without hearing from the coordinator; after it, the next create asks first. */
export const LEASE_VALID_MS = 5 * 60_000;
/** A tenant that holds capacity or has a queue reports to the coordinator at least this often. */
export const HEARTBEAT_MS = 30_000;
/** A tenant that made no create for this long wants nothing kept for it (its headroom goes back). */
export const IDLE_MS = 60_000;
/** Creates refused for capacity are remembered this long as demand (a tenant that does not queue still wants them). */
export const REFUSAL_MEMORY_MS = 10_000;
/** At most one report per this long when the last one could not give more (a flood does not flood the coordinator). */
export const MIN_ASK_GAP_MS = 1_000;

/** What a tenant reports to the coordinator. */
export interface CapacityReport {
  tenantId: string;
  weight: number;
  floor: number;
  /** Tasks of the tenant RunAPI may be running (sent or being sent, not finished). */
  active: number;
  /** Tasks held in the tenant's queue, not yet sent. */
  queued: number;
  /** Creates sent in the last minute. */
  rateUsed: number;
  /** What the tenant holds now (it enforces no more), after giving back what it does not need. */
  held: { slots: number; rate: number };
  /**
   * What it needs now (`slots`: tasks in flight, queued, refused lately), the headroom it would like on top (served
   * only from what no one needs), and whether it sends creates at all lately (`rate`: it gets a weighted split of the rate).
   */
  want: { slots: number; headroom: number; rate: boolean };
}

/** The coordinator's answer: what the tenant now holds (never less than it reported), its fair target, and whether others wait. */
export interface CapacityGrant {
  slots: number;
  rate: number;
  targetSlots: number;
  targetRate: number;
  /** Some tenant wants more than it holds within its share: give back promptly what is above the target. */
  contended: boolean;
  /** Which resources are limited at all (an operator limit of 0 turns one off). */
  limited: { slots: boolean; rate: boolean };
  /** Slots others hold idle above their target that the coordinator is getting back for this tenant (it may wait a moment). */
  reclaiming: number;
}

/** The lease as the tenant's object keeps it. `syncedAt` 0: never heard from the coordinator. */
export interface Lease extends CapacityGrant {
  syncedAt: number;
}

/** A tenant with no lease yet: holds nothing. */
export const NO_LEASE: Lease = {
  slots: 0,
  rate: 0,
  targetSlots: 0,
  targetRate: 0,
  contended: false,
  limited: { slots: true, rate: true },
  reclaiming: 0,
  syncedAt: 0,
};

/** Whether the lease may be used at `now` without asking first. */
export function leaseValid(lease: Lease, now: number): boolean {
  return lease.syncedAt > 0 && now - lease.syncedAt < LEASE_VALID_MS;
}

/** A create-rate token bucket: refills at the granted rate, holds at most 10 s of it. */
export interface Bucket {
  tokens: number;
  at: number;
}

/** The most tokens a bucket of `perMinute` holds: 10 seconds' worth, at least one. */
export function burst(perMinute: number): number {
  return Math.max(1, perMinute / 6);
}

/** The bucket at `now`. */
export function refill(bucket: Bucket, perMinute: number, now: number): Bucket {
  const gained = Math.max(0, now - bucket.at) * (perMinute / 60_000);
  return { tokens: Math.min(burst(perMinute), bucket.tokens + gained), at: now };
}

/** How long until the bucket holds a whole token (0: it does), or null when the rate is 0. */
export function msToToken(bucket: Bucket, perMinute: number): number | null {
  if (bucket.tokens >= 1) return 0;
  if (perMinute <= 0) return null;
  return Math.ceil(((1 - bucket.tokens) * 60_000) / perMinute);
}

/** What one create does now: sent at once, held in the queue, or refused (`429 upstream_capacity`). */
export type Decision = { kind: "submit" } | { kind: "queue" } | { kind: "refuse" };

/**
 * The admission of one create against the lease: sent when the tenant's queue is empty (no create overtakes a queued
 * one), a slot is free and a rate token is there; else queued when the create asked for it; else refused.
 */
export function decide(o: { lease: Lease; active: number; queued: number; tokens: number; valid: boolean; wantsQueue: boolean }): Decision {
  const slotFree = !o.lease.limited.slots || o.active < o.lease.slots;
  const tokenFree = !o.lease.limited.rate || o.tokens >= 1;
  if (o.valid && o.queued === 0 && slotFree && tokenFree) return { kind: "submit" };
  return o.wantsQueue ? { kind: "queue" } : { kind: "refuse" };
}

/** How many queued tasks may start now: free slots and whole tokens, at most the queue. */
export function startable(o: { lease: Lease; active: number; queued: number; tokens: number; valid: boolean }): number {
  if (!o.valid) return 0;
  const slots = o.lease.limited.slots ? Math.max(0, o.lease.slots - o.active) : o.queued;
  const tokens = o.lease.limited.rate ? Math.floor(o.tokens) : o.queued;
  return Math.max(0, Math.min(o.queued, slots, tokens));
}

/** What the tenant needs (in flight, queued, refused lately), the headroom it would like while in use (half as much again), and whether it sends creates. */
export function wanted(o: { active: number; queued: number; refused: number; recent: boolean }): CapacityReport["want"] {
  const busy = o.active + o.queued + o.refused;
  return { slots: busy, headroom: o.recent ? Math.max(2, Math.ceil(busy / 2)) : 0, rate: o.recent || busy > 0 };
}

/**
 * What the tenant keeps of its lease: the slots in use, and up to what it wants (need and headroom), or only its fair
 * target while others wait; the rate as granted. The rest it gives back.
 */
export function kept(lease: Lease, active: number, want: CapacityReport["want"]): { slots: number; rate: number } {
  const cap = Math.min(lease.slots, want.slots + want.headroom, lease.contended ? lease.targetSlots : Number.POSITIVE_INFINITY);
  return { slots: Math.max(Math.min(active, lease.slots), cap), rate: want.rate ? lease.rate : 0 };
}

/** Whether what the tenant keeps is worth telling the coordinator now: others wait for it, or it is much less than it was granted. */
export function owes(lease: Lease, keep: { slots: number }, reported: { slots: number }): boolean {
  const back = reported.slots - keep.slots;
  return back > 0 && (lease.contended || back >= Math.max(2, Math.ceil(keep.slots / 2)));
}

/**
 * Whether the tenant should ask for more slots before it runs out: what it uses (and queues, and was refused lately)
 * comes within an eighth of what it holds. Asking ahead of need is what lets creates within its share never wait.
 */
export function needsMore(o: { lease: Lease; active: number; queued: number; refused: number }): boolean {
  const low = (held: number) => Math.max(1, Math.floor(held / 8));
  return o.lease.limited.slots && o.active + o.queued + o.refused > o.lease.slots - low(o.lease.slots);
}

/** Retry-After for a create refused for capacity: about when one of the tenant's slots frees, from how long its tasks run. */
export function capacityRetryAfterSeconds(o: { slots: number; taskMs: number; tokenMs: number | null }): number {
  const slotMs = o.taskMs / Math.max(1, o.slots);
  const ms = Math.max(slotMs, o.tokenMs ?? 0);
  return Math.min(60, Math.max(1, Math.ceil(ms / 1000)));
}
