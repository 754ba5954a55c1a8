import { type Bucket, burst, IDLE_MS, REFUSAL_MEMORY_MS, refill } from "./capacity-lease";
import type { TaskStatus } from "./task-state";

const SENT_SLOT_MS = 10_000;
const isActive = (s: TaskStatus) => s === "pending" || s === "processing";

/**
 * What a tenant's object counts of its own use of RunAPI's capacity (SPEC §14), with the clock passed in: tasks in flight
 * and queued, its rate tokens, creates sent in the last minute, refusals remembered as demand, how long its tasks run.
 */
export class CapacityUsage {
  /** Tasks RunAPI may be running (pending, processing), and tasks waiting in the queue. */
  active = 0;
  queued = 0;
  /** When the tenant last sent (or was refused) a create: within IDLE_MS it is in use and keeps some headroom. */
  lastCreateAt = 0;
  /** How long its tasks run, lately (ms): what Retry-After is estimated from. */
  taskMs = 60_000;
  private bucket: Bucket = { tokens: 0, at: 0 };
  private readonly sent = [0, 0, 0, 0, 0, 0];
  private sentSlot = 0;
  private sentSlotAt = 0;
  private refusals: number[] = [];

  /** Starts the counts (from the task rows) and a full bucket of the granted rate. */
  reset(counts: { active: number; queued: number }, rate: number, now: number): void {
    this.active = counts.active;
    this.queued = counts.queued;
    this.bucket = { tokens: burst(rate), at: now };
  }

  /** A new rate was granted after none: the bucket starts full (10 s of it). */
  granted(rate: number, now: number): void {
    this.bucket = { tokens: burst(rate), at: now };
  }

  /** A task's status moved; true when it freed a slot (it ran and ended). */
  moved(from: TaskStatus, to: TaskStatus, startedAt: number, now: number): boolean {
    if (from === to) return false;
    if (from === "queued") this.queued = Math.max(0, this.queued - 1);
    if (isActive(from)) this.active = Math.max(0, this.active - 1);
    if (to === "queued") this.queued += 1;
    if (isActive(to)) this.active += 1;
    if (!isActive(from) || isActive(to) || to === "queued") return false;
    this.taskMs = 0.8 * this.taskMs + 0.2 * Math.max(0, now - startedAt);
    return true;
  }

  /** A create refused for capacity: remembered REFUSAL_MEMORY_MS as demand. */
  refused(now: number): void {
    this.lastCreateAt = now;
    this.refusals = this.refusals.filter((t) => now - t < REFUSAL_MEMORY_MS).slice(-999);
    this.refusals.push(now);
  }

  /** Creates refused for capacity in the last REFUSAL_MEMORY_MS. */
  refusedLately(now: number): number {
    this.refusals = this.refusals.filter((t) => now - t < REFUSAL_MEMORY_MS);
    return this.refusals.length;
  }

  /** When the oldest remembered refusal is forgotten, or null. */
  refusalExpiry(): number | null {
    return this.refusals.length ? this.refusals[0]! + REFUSAL_MEMORY_MS : null;
  }

  /** Whether the tenant sent (or tried to send) a create within IDLE_MS. */
  recent(now: number): boolean {
    return now - this.lastCreateAt < IDLE_MS;
  }

  /** The bucket of the granted rate at `now`. */
  bucketAt(rate: number, now: number): Bucket {
    this.bucket = refill(this.bucket, rate, now);
    return this.bucket;
  }

  /** `n` creates are sent now: a token each (when the rate is limited), and counted in the last minute. */
  spend(n: number, rate: number | null, now: number): void {
    if (rate !== null) this.bucket = { tokens: Math.max(0, this.bucketAt(rate, now).tokens - n), at: now };
    this.rotate(now);
    this.sent[this.sentSlot]! += n;
  }

  /** Creates sent in the last minute (six 10 s slots). */
  sentLastMinute(now: number): number {
    this.rotate(now);
    return this.sent.reduce((s, x) => s + x, 0);
  }

  private rotate(now: number): void {
    const slot = Math.floor(now / SENT_SLOT_MS);
    const steps = Math.min(6, slot - this.sentSlotAt);
    if (steps <= 0) return;
    for (let i = 1; i <= steps; i++) this.sent[(this.sentSlot + i) % 6] = 0;
    this.sentSlot = (this.sentSlot + steps) % 6;
    this.sentSlotAt = slot;
  }
}
