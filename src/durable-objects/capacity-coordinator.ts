import { DurableObject } from "cloudflare:workers";
import type { CapacityGrant, CapacityReport } from "../domain/capacity-lease";
import { LEASE_VALID_MS } from "../domain/capacity-lease";
import {
  CUT_GAP_MS,
  cutLimit,
  type EffectiveLimit,
  freeSlots,
  grantFor,
  type Holder,
  type Limits,
  lending,
  RAISE_EVERY_MS,
  raiseLimit,
  reclaimable,
  type Resource,
  type Targets,
  targetsOf,
  throttledResource,
  waiting,
} from "../domain/capacity";
import { loadConfig, type Bindings } from "../env";
import { log } from "../lib/log";
import { ledgerStub } from "../lib/stubs";
import { AlarmSchedule } from "./alarm-schedule";

/** A tenant told to report (waiters to take freed capacity, lenders to give theirs back) is not told again until it has, or for this long. */
const NUDGE_PATIENCE_MS = 2_000;
const RESOURCES = ["slots", "rate"] as const;

/** The coordinator's state for operators and metrics (`GET /admin/v1/capacity`). */
export interface CapacitySnapshot {
  slots: { max: number; effective: number; held: number; in_flight: number } | null;
  rate: { max: number; effective: number; held: number; used_last_minute: number } | null;
  queued: number;
  tenants: {
    tenant_id: string;
    weight: number;
    floor: number;
    in_flight: number;
    queued: number;
    want_slots: number;
    want_headroom: number;
    held_slots: number;
    target_slots: number;
    sends: boolean;
    held_rate: number;
    target_rate: number;
    reported_at: string;
  }[];
}

/**
 * RunAPI's capacity for the whole deployment (SPEC §14), leased in blocks to tenants' objects: a tenant's object
 * reports what it uses and wants, and holds what this object grants (never less than it reported), so a create
 * within its lease never comes here. Shares are weighted max-min fair; capacity a tenant leaves idle is lent to
 * others and comes back as their tasks end (lenders are told to give back, waiters to take). RunAPI's 429s cut the
 * effective limits; they rise back a step every 30 s without one.
 */
export class CapacityCoordinator extends DurableObject<Bindings> {
  /** The object's clock; tests move it instead of sleeping. */
  clock: () => number = () => Date.now();
  private readonly holders = new Map<string, Holder>();
  private limits: Limits = { slots: null, rate: null };
  private cutAt = 0;
  private raisedAt = 0;
  private readonly nudgedAt = new Map<string, number>();
  private readonly alarms: AlarmSchedule;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.alarms = new AlarmSchedule(ctx.storage);
    void ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec(`
        CREATE TABLE IF NOT EXISTS holders (tenant_id TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS limits (resource TEXT PRIMARY KEY, max INTEGER NOT NULL, effective INTEGER NOT NULL, cut_at INTEGER NOT NULL, raised_at INTEGER NOT NULL) WITHOUT ROWID;
      `);
      for (const row of sql.exec<{ state: string }>("SELECT state FROM holders")) {
        const holder = JSON.parse(row.state) as Holder;
        this.holders.set(holder.id, holder);
      }
      this.loadLimits();
      await this.alarms.load();
    });
  }

  /**
   * A tenant's report: what it uses, wants and holds. Answers what it holds now (more, up to its fair target, when
   * capacity is free), its target, and whether others wait; tells others that can take or should give back.
   */
  async sync(report: CapacityReport): Promise<CapacityGrant> {
    const now = this.clock();
    const holder: Holder = {
      id: report.tenantId,
      weight: report.weight,
      floor: report.floor,
      active: report.active,
      queued: report.queued,
      rateUsed: report.rateUsed,
      want: report.want,
      held: report.held,
      seenAt: now,
    };
    this.holders.set(holder.id, holder);
    const all = [...this.holders.values()];
    const targets = targetsOf(all, this.limits);
    holder.held = grantFor(holder, all, this.limits, targets);
    this.save(holder);
    const waiters = waiting(all, this.limits, targets);
    this.nudgeOthers(holder.id, waiters, targets, now);
    await this.keepAlarm(now);
    return {
      slots: holder.held.slots,
      rate: holder.held.rate,
      targetSlots: targets.slots.get(holder.id) ?? 0,
      targetRate: targets.rate.get(holder.id) ?? 0,
      // Someone waits for its share, or more is held than RunAPI allows now (after a cut): give back what is above the target.
      contended: waiters.length > 0 || !this.hasFree(all, 0),
      limited: { slots: this.limits.slots !== null, rate: this.limits.rate !== null },
      reclaiming: waiters.includes(holder) ? reclaimable(all, targets, holder.id) : 0,
    };
  }

  /** RunAPI answered a create with 429: the effective limit of the resource it most likely met is cut (once per burst). */
  async throttled(tenantId: string): Promise<void> {
    const now = this.clock();
    if (now - this.cutAt < CUT_GAP_MS) return;
    const all = [...this.holders.values()];
    const inFlight = all.reduce((s, h) => s + h.active, 0);
    const rateUsed = all.reduce((s, h) => s + h.rateUsed, 0);
    const resource = throttledResource(inFlight, this.limits.slots, rateUsed, this.limits.rate);
    const limit = this.limits[resource];
    if (!limit) return;
    this.limits[resource] = cutLimit(limit, resource === "slots" ? inFlight : rateUsed);
    this.cutAt = now;
    this.saveLimits();
    log.warn("upstream_capacity_cut", { resource, tenant_id: tenantId, from: limit.effective, to: this.limits[resource]!.effective });
    // Everyone above the new target must stop starting tasks and give back as they end.
    const targets = targetsOf(all, this.limits);
    this.nudgeLenders(lending(all, this.limits, targets), targets, now);
    await this.keepAlarm(now);
  }

  /** The limits, what is held and in flight, and every tenant's share (`GET /admin/v1/capacity`, metrics). */
  snapshot(): CapacitySnapshot {
    const all = [...this.holders.values()];
    const targets = targetsOf(all, this.limits);
    const sum = (f: (h: Holder) => number) => all.reduce((s, h) => s + f(h), 0);
    const { slots, rate } = this.limits;
    return {
      slots: slots && { max: slots.max, effective: slots.effective, held: sum((h) => h.held.slots), in_flight: sum((h) => h.active) },
      rate: rate && { max: rate.max, effective: rate.effective, held: sum((h) => h.held.rate), used_last_minute: sum((h) => h.rateUsed) },
      queued: sum((h) => h.queued),
      tenants: all
        .sort((a, b) => b.held.slots - a.held.slots || (a.id < b.id ? -1 : 1))
        .map((h) => ({
          tenant_id: h.id,
          weight: h.weight,
          floor: h.floor,
          in_flight: h.active,
          queued: h.queued,
          want_slots: h.want.slots,
          want_headroom: h.want.headroom,
          held_slots: h.held.slots,
          target_slots: targets.slots.get(h.id) ?? 0,
          sends: h.want.rate,
          held_rate: h.held.rate,
          target_rate: targets.rate.get(h.id) ?? 0,
          reported_at: new Date(h.seenAt).toISOString(),
        })),
    };
  }

  /** Raises a cut limit a step, forgets tenants silent past any task they could still run, tells waiters what freed. Safe to run twice. */
  override async alarm(): Promise<void> {
    this.alarms.fired();
    const now = this.clock();
    if (now - Math.max(this.cutAt, this.raisedAt) >= RAISE_EVERY_MS) {
      let raised = false;
      for (const r of RESOURCES) {
        const limit = this.limits[r];
        if (limit && limit.effective < limit.max) {
          this.limits[r] = raiseLimit(limit);
          raised = true;
        }
      }
      if (raised) {
        this.raisedAt = now;
        this.saveLimits();
      }
    }
    const staleBefore = now - this.staleMs();
    for (const h of [...this.holders.values()]) {
      if (h.seenAt >= staleBefore) continue;
      // Silent past its lease and the lifetime of any task it admitted under it: nothing of it can still run at RunAPI.
      log.warn("capacity_holder_forgotten", { tenant_id: h.id, held_slots: h.held.slots });
      this.holders.delete(h.id);
      this.ctx.storage.sql.exec("DELETE FROM holders WHERE tenant_id = ?", h.id);
    }
    const all = [...this.holders.values()];
    const targets = targetsOf(all, this.limits);
    if (this.limits.slots && this.hasFree(all)) this.nudge(waiting(all, this.limits, targets), now);
    await this.keepAlarm(now);
  }

  /**
   * Tells the waiters (when slots are free) and the lenders (when someone waits for slots, or their rate is above its
   * new split) to report, except the one just heard.
   */
  private nudgeOthers(reporter: string, waiters: Holder[], targets: Targets, now: number): void {
    const all = [...this.holders.values()];
    const others = waiters.filter((h) => h.id !== reporter);
    if (others.length && this.limits.slots && this.hasFree(all)) this.nudge(others, now);
    const rateOver = (h: Holder) => this.limits.rate !== null && h.held.rate > (targets.rate.get(h.id) ?? 0);
    this.nudgeLenders(
      lending(all, this.limits, targets).filter((h) => h.id !== reporter && (waiters.length > 0 || rateOver(h))),
      targets,
      now,
    );
  }

  /**
   * Tells lenders to give back. One with idle slots above its target gives them back at once when told (and is then
   * idle no more); one whose slots all run tasks is told at most once per NUDGE_PATIENCE_MS: once it knows others
   * wait it gives back as its tasks end by itself, and two such lenders would otherwise nudge each other through this
   * object without end (each one's report nudging the other).
   */
  private nudgeLenders(lenders: Holder[], targets: Targets, now: number): void {
    const idle = (h: Holder) => h.held.slots > Math.max(h.active, targets.slots.get(h.id) ?? 0);
    this.nudge(lenders.filter(idle), now);
    this.nudge(
      lenders.filter((h) => !idle(h)),
      now,
      true,
    );
  }

  /**
   * Asks each tenant's object to report (it then takes or gives back); one nudge at a time each, until it reports, and
   * when `patient`, at most one per NUDGE_PATIENCE_MS even if it has reported since. Not awaited.
   */
  private nudge(holders: Holder[], now: number, patient = false): void {
    for (const h of holders) {
      const last = this.nudgedAt.get(h.id) ?? 0;
      if ((patient || last > h.seenAt) && now - last < NUDGE_PATIENCE_MS) continue; // told already, or lately
      this.nudgedAt.set(h.id, now);
      ledgerStub(this.env, h.id)
        .capacityNudge()
        .catch((err: unknown) => log.warn("capacity_nudge_failed", { tenant_id: h.id, error: err instanceof Error ? err.name : "unknown" }));
    }
    if (this.nudgedAt.size > 10_000) this.nudgedAt.clear();
  }

  /** Whether at least `least` slots are free (below 0: more is held than the effective limit allows, after a cut). */
  private hasFree(all: Holder[], least = 1): boolean {
    return this.limits.slots === null || freeSlots(all, this.limits.slots) >= least;
  }

  /** The alarm falls due when a cut limit may rise, or the longest-silent tenant may be forgotten. */
  private async keepAlarm(now: number): Promise<void> {
    const times: (number | null)[] = [];
    if (RESOURCES.some((r) => this.limits[r] && this.limits[r]!.effective < this.limits[r]!.max)) {
      times.push(Math.max(now, Math.max(this.cutAt, this.raisedAt) + RAISE_EVERY_MS));
    }
    let oldest = Number.POSITIVE_INFINITY;
    for (const h of this.holders.values()) oldest = Math.min(oldest, h.seenAt);
    if (oldest !== Number.POSITIVE_INFINITY) times.push(oldest + this.staleMs());
    await this.alarms.reset(times);
  }

  /** A lease is used at most LEASE_VALID_MS unreported; every task admitted under it ends within its lifetime. */
  private staleMs(): number {
    const config = loadConfig(this.env);
    return LEASE_VALID_MS + config.taskTtlMs + 3 * config.upstreamTimeoutMs + 60_000;
  }

  private save(holder: Holder): void {
    const sql = this.ctx.storage.sql;
    if (holder.held.slots === 0 && holder.want.slots === 0 && !holder.want.rate && holder.active === 0 && holder.queued === 0) {
      this.holders.delete(holder.id);
      sql.exec("DELETE FROM holders WHERE tenant_id = ?", holder.id);
      return;
    }
    sql.exec("INSERT OR REPLACE INTO holders (tenant_id, state) VALUES (?, ?)", holder.id, JSON.stringify(holder));
  }

  /** The operator's limits from config; a cut one stays cut (below a lowered max), an uncut one follows the max. */
  private loadLimits(): void {
    const config = loadConfig(this.env);
    const stored = new Map(
      this.ctx.storage.sql
        .exec<{ resource: Resource; max: number; effective: number; cut_at: number; raised_at: number }>("SELECT * FROM limits")
        .toArray()
        .map((r) => [r.resource, r]),
    );
    const of = (r: Resource, max: number | null): EffectiveLimit | null => {
      if (max === null) return null;
      const row = stored.get(r);
      this.cutAt = Math.max(this.cutAt, row?.cut_at ?? 0);
      this.raisedAt = Math.max(this.raisedAt, row?.raised_at ?? 0);
      if (!row || row.effective >= row.max) return { max, effective: max };
      return { max, effective: Math.min(row.effective, max) };
    };
    this.limits = { slots: of("slots", config.upstreamMaxConcurrentTasks), rate: of("rate", config.upstreamRequestsPerMinute) };
  }

  private saveLimits(): void {
    for (const r of RESOURCES) {
      const limit = this.limits[r];
      if (!limit) continue;
      this.ctx.storage.sql.exec(
        "INSERT OR REPLACE INTO limits (resource, max, effective, cut_at, raised_at) VALUES (?, ?, ?, ?, ?)",
        r,
        limit.max,
        limit.effective,
        this.cutAt,
        this.raisedAt,
      );
    }
  }
}
