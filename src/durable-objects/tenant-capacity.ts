import {
  type CapacityReport,
  capacityRetryAfterSeconds,
  type Decision,
  decide,
  HEARTBEAT_MS,
  IDLE_MS,
  kept,
  leaseValid,
  MIN_ASK_GAP_MS,
  msToToken,
  NO_LEASE,
  needsMore,
  owes,
  startable,
  wanted,
} from "../domain/capacity-lease";
import { CapacityUsage } from "../domain/capacity-usage";
import type { TaskRecord } from "../domain/task-record";
import type { TaskStatus } from "../domain/task-state";
import { loadConfig, type Bindings } from "../env";
import { log } from "../lib/log";
import { capacityStub, withinCoordinatorTimeout } from "../lib/stubs";
import type { StoredLease, TaskQueue } from "./task-queue";

/** How long a create waits for the coordinator (its answer, or capacity it is getting back) before it is admitted or not. */
const ASK_WAIT_MS = 2_000;

/** What the lease needs of the tenant's object: its clock, a way to start queued tasks, and its alarm. */
export interface CapacityHost {
  now(): number;
  /** Moves these queued tasks to `pending`; the object then sends them. */
  start(ids: string[]): Promise<void>;
  /** Makes sure the object's alarm runs no later than `at`. */
  wakeAt(at: number): Promise<void>;
}

/** What a tenant's creates ask of RunAPI's capacity: the tenant, its weight and floor. */
export interface CapacitySettings {
  tenantId: string;
  weight: number;
  floor: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The tenant object's lease on RunAPI's capacity (SPEC §14): it admits a create against the slots and rate it holds
 * (no round trip), queues or refuses beyond them, starts queued tasks as slots free, asks the coordinator for more
 * ahead of need, gives back what it does not need (at once while others wait), and reports every 30 s while it holds any.
 */
export class TenantCapacity {
  private state: StoredLease & { tenantId?: string } = { lease: NO_LEASE, reported: { slots: 0, rate: 0 }, weight: 1, floor: 0 };
  private readonly use = new CapacityUsage();
  private asking: Promise<void> | null = null;
  private askAgain = false;
  private preparing = 0;
  private lastAskAt = 0;
  private lastAskGaveMore = true;
  /** The need the last report told, and whether its fair share covered it (then more need may bring more). */
  private lastNeed = 0;
  private lastCovered = true;
  private pumpDue = false;
  private grants = 0;
  private enabled_: boolean | null = null;

  constructor(
    private readonly env: Bindings,
    private readonly store: TaskQueue,
    private readonly host: CapacityHost,
  ) {}

  /** Whether the operator limits RunAPI's capacity at all (UPSTREAM_MAX_CONCURRENT_TASKS or UPSTREAM_REQUESTS_PER_MINUTE). */
  get enabled(): boolean {
    if (this.enabled_ === null) {
      const config = loadConfig(this.env);
      this.enabled_ = config.upstreamMaxConcurrentTasks !== null || config.upstreamRequestsPerMinute !== null;
    }
    return this.enabled_;
  }

  /** Reads the stored lease and counts the tasks in flight and queued (in the constructor's `blockConcurrencyWhile`). */
  load(): void {
    this.state = this.store.loadLease() ?? this.state;
    this.use.reset(this.store.counts(), this.state.lease.rate, this.host.now());
  }

  /**
   * Before a batch of `n` creates: a usable lease. Asks (one round trip) when there is none, or the batch does not fit and
   * more may be free; waits a moment more when the coordinator is getting idle capacity back from others for it.
   */
  async prepare(n: number, settings: CapacitySettings, now: number): Promise<void> {
    if (!this.enabled) return;
    const changed = this.state.tenantId !== settings.tenantId || this.state.weight !== settings.weight || this.state.floor !== settings.floor;
    Object.assign(this.state, settings);
    // The batch counts as demand until it is admitted (`prepared`): a report meanwhile asks for it and keeps room for it.
    this.use.lastCreateAt = now;
    this.preparing += n;
    const fits = () => {
      const lease = this.state.lease;
      const at = this.host.now();
      return leaseValid(lease, at) && (!lease.limited.slots || this.use.active + n <= lease.slots) && (!lease.limited.rate || this.tokens(at) >= n);
    };
    if (fits() || this.use.queued > 0) {
      // Within the lease (or behind a queue, where it waits its turn anyway): no round trip.
      if (changed || (this.use.queued > 0 && this.mayAskForMore(now))) void this.ask();
      return;
    }
    const deadline = Date.now() + ASK_WAIT_MS;
    if (!leaseValid(this.state.lease, now) || this.mayAskForMore(now)) await Promise.race([this.ask(), sleep(ASK_WAIT_MS)]);
    // Others give back what they hold idle when told to; the coordinator then tells this object, which asks again.
    while (!fits() && this.state.lease.reclaiming > 0 && Date.now() < deadline) {
      const seen = this.grants;
      while (this.grants === seen && Date.now() < deadline) await sleep(5);
    }
  }

  /** The batch `prepare` was told of has been admitted (or refused): it is no longer demand of its own. */
  prepared(n: number): void {
    this.preparing = Math.max(0, this.preparing - n);
  }

  /** One create's admission (inside its transaction): sent, queued (when it asked to be) or refused. */
  decide(wantsQueue: boolean, now: number): Decision {
    if (!this.enabled) return { kind: "submit" };
    const lease = this.state.lease;
    return decide({ lease, active: this.use.active, queued: this.use.queued, tokens: this.tokens(now), valid: leaseValid(lease, now), wantsQueue });
  }

  /** A create was admitted as `decision` (its task row written). */
  admitted(decision: Decision, now: number): void {
    if (!this.enabled) return;
    this.use.lastCreateAt = now;
    if (decision.kind === "queue") this.use.queued += 1;
    if (decision.kind === "submit") {
      this.use.active += 1;
      this.spend(1, now);
    }
  }

  /** A create was refused for capacity: remembered a while as demand, so the next report asks for it. */
  refused(now: number): void {
    this.use.refused(now);
  }

  /** Retry-After for a create refused for capacity: about when a slot (or a rate token) frees. */
  retryAfterSeconds(now: number): number {
    const lease = this.state.lease;
    const tokenMs = lease.limited.rate ? (msToToken(this.use.bucketAt(lease.rate, now), lease.rate) ?? 60_000) : null;
    return capacityRetryAfterSeconds({ slots: lease.slots, taskMs: this.use.taskMs, tokenMs });
  }

  /** A task's status moved (committed): the counts follow; a slot freed lets a queued task start or goes back to the coordinator. */
  moved(from: TaskStatus, task: TaskRecord, now: number): void {
    const started = task.history.find((h) => h.status === "pending")?.at ?? task.created_at;
    if (this.use.moved(from, task.status, started, now)) this.pumpDue = true;
  }

  /** After changes: start what may start, and report when it needs more or holds what it should give back. The report is not awaited. */
  async settle(now: number): Promise<void> {
    if (!this.enabled) return;
    if (this.pumpDue) await this.pump(now);
    if (this.wantsToReport(now)) void this.ask();
    // A report held back (at most one ask for more a second) is made by the alarm, not dropped.
    else if (this.needsMore(now)) await this.host.wakeAt(this.lastAskAt + MIN_ASK_GAP_MS);
  }

  /** The alarm's part: the heartbeat report when due, then `settle`. */
  async tick(now: number): Promise<void> {
    if (!this.enabled) return;
    const lease = this.state.lease;
    const heartbeat = now >= lease.syncedAt + HEARTBEAT_MS || (this.use.queued > 0 && !leaseValid(lease, now));
    if (this.holding() && (heartbeat || (this.needsMore(now) && this.mayAskForMore(now)))) await this.ask();
    this.pumpDue ||= this.use.queued > 0;
    await this.settle(this.host.now());
  }

  /** When the alarm should next run for the lease: the heartbeat, or a rate token a queued task waits for; null: nothing to do. */
  nextDue(now: number): number | null {
    if (!this.enabled || !this.holding()) return null;
    const lease = this.state.lease;
    let at = lease.syncedAt + HEARTBEAT_MS;
    // When remembered refusals and the headroom of recent use expire, what it needs falls: it tells the coordinator.
    const soon = Math.max(now, this.lastAskAt + MIN_ASK_GAP_MS);
    const forgets = this.use.refusalExpiry();
    if (forgets !== null && this.lastNeed > 0) at = Math.min(at, Math.max(soon, forgets));
    if (this.state.reported.slots > this.use.active) at = Math.min(at, Math.max(soon, this.use.lastCreateAt + IDLE_MS));
    const { active, queued } = this.use;
    if ((queued > 0 && !leaseValid(lease, now)) || this.needsMore(now)) at = Math.min(at, this.lastAskAt + MIN_ASK_GAP_MS);
    else if (queued > 0 && lease.limited.rate && (!lease.limited.slots || active < lease.slots)) {
      const ms = msToToken(this.use.bucketAt(lease.rate, now), lease.rate);
      if (ms !== null) at = Math.min(at, now + ms);
    }
    return at;
  }

  /** The coordinator asks for a report: capacity freed for this tenant, or others wait for what it holds. */
  nudged(): void {
    if (!this.enabled) return;
    void this.ask().then(() => this.settle(this.host.now()));
  }

  /**
   * RunAPI answered a create with 429: this tenant starts nothing more until it hears from the coordinator, which learns
   * RunAPI's limit is lower than it thought and answers with the tenant's share of the new one.
   */
  async throttled(): Promise<void> {
    const tenantId = this.state.tenantId;
    if (!this.enabled || !tenantId) return;
    this.state.lease = { ...this.state.lease, slots: Math.min(this.state.lease.slots, this.use.active) };
    try {
      await withinCoordinatorTimeout(capacityStub(this.env).throttled(tenantId));
      await this.ask();
    } catch (err) {
      log.warn("capacity_throttle_report_failed", { error: err instanceof Error ? err.name : "unknown" });
    }
  }

  /** Reports to the coordinator and takes its answer; one report at a time (one asked for meanwhile follows it). */
  private ask(): Promise<void> {
    if (this.asking) {
      this.askAgain = true;
      return this.asking;
    }
    this.asking = (async () => {
      try {
        do {
          this.askAgain = false;
          await this.askOnce();
        } while (this.askAgain);
      } finally {
        this.asking = null;
      }
      if (this.pumpDue) await this.pump(this.host.now());
    })();
    return this.asking;
  }

  private async askOnce(): Promise<void> {
    const tenantId = this.state.tenantId;
    if (!tenantId) return;
    const now = this.host.now();
    const want = this.want(now);
    const held = this.keep(want);
    const report: CapacityReport = {
      tenantId,
      weight: this.state.weight,
      floor: this.state.floor,
      active: this.use.active,
      queued: this.use.queued,
      rateUsed: this.use.sentLastMinute(now),
      held,
      want,
    };
    try {
      const grant = await withinCoordinatorTimeout(capacityStub(this.env).sync(report));
      this.lastAskGaveMore = grant.slots > held.slots;
      this.lastNeed = want.slots;
      this.lastCovered = grant.targetSlots >= want.slots;
      if (this.state.lease.rate === 0 && grant.rate > 0) this.use.granted(grant.rate, this.host.now());
      this.state.lease = { ...grant, syncedAt: this.host.now() };
      this.state.reported = { slots: grant.slots, rate: grant.rate };
      this.store.saveLease(this.state);
      this.keep(this.want(this.host.now()));
      this.grants += 1;
      if (this.lastAskGaveMore || this.use.queued > 0) this.pumpDue = true;
      const next = this.nextDue(this.host.now());
      if (next !== null) await this.host.wakeAt(next);
    } catch (err) {
      this.lastAskGaveMore = false;
      log.warn("capacity_report_failed", { tenant_id: tenantId, error: err instanceof Error ? err.name : "unknown" });
    } finally {
      this.lastAskAt = now;
    }
  }

  /** Starts as many queued tasks, oldest first, as free slots and rate tokens allow. */
  private async pump(now: number): Promise<void> {
    this.pumpDue = false;
    this.keep(this.want(now));
    const lease = this.state.lease;
    const n = startable({ lease, active: this.use.active, queued: this.use.queued, tokens: this.tokens(now), valid: leaseValid(lease, now) });
    const ids = this.store.oldest(n);
    if (!ids.length) return;
    this.spend(ids.length, now);
    await this.host.start(ids);
  }

  private want(now: number): CapacityReport["want"] {
    const { active, queued } = this.use;
    return wanted({ active: active + this.preparing, queued, refused: this.use.refusedLately(now), recent: this.use.recent(now) });
  }

  /** Gives back, locally at once (to the coordinator with the next report), what the tenant does not need; returns what it keeps. */
  private keep(want: CapacityReport["want"]): { slots: number; rate: number } {
    const keep = kept(this.state.lease, this.use.active, want);
    this.state.lease = { ...this.state.lease, ...keep };
    return keep;
  }

  private wantsToReport(now: number): boolean {
    if (this.needsMore(now) && this.mayAskForMore(now)) return true;
    const want = this.want(now);
    // Its need fell below what it told (refusals forgotten, a queue gone), or it went idle holding more than it runs.
    if (want.slots < this.lastNeed && this.state.reported.slots > 0) return true;
    if (!this.use.recent(now) && this.state.reported.slots > this.use.active && now - this.lastAskAt >= MIN_ASK_GAP_MS) return true;
    return owes(this.state.lease, this.keep(want), this.state.reported);
  }

  /** Whether what the tenant needs comes near (or past) what it holds: it should ask for more. */
  private needsMore(now: number): boolean {
    return needsMore({ lease: this.state.lease, active: this.use.active, queued: this.use.queued, refused: this.use.refusedLately(now) });
  }

  /**
   * Whether asking for more may bring more: the last ask did, or a second has passed, or the tenant needs more than it
   * told and its share covered all it told (more need may raise it). A tenant held at its share by others' (a flood)
   * asks at most once a second, so it does not flood the coordinator.
   */
  private mayAskForMore(now: number): boolean {
    if (this.lastAskGaveMore || now - this.lastAskAt >= MIN_ASK_GAP_MS) return true;
    return this.lastCovered && this.want(now).slots > this.lastNeed;
  }

  private holding(): boolean {
    const { reported } = this.state;
    return Boolean(this.state.tenantId) && (reported.slots > 0 || reported.rate > 0 || this.use.active > 0 || this.use.queued > 0);
  }

  private tokens(now: number): number {
    return this.use.bucketAt(this.state.lease.rate, now).tokens;
  }

  private spend(n: number, now: number): void {
    this.use.spend(n, this.state.lease.limited.rate ? this.state.lease.rate : null, now);
  }
}
