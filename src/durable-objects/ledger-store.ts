import { auditTotals, type AuditResult } from "../domain/ledger-audit";
import {
  assertBudgets,
  assertMicros,
  budgetBucket,
  entryEffect,
  firstExceeded,
  keySubjectOf,
  scopeState,
  type BucketTotals,
  type LedgerEntry,
  type ReserveRequest,
  type ReserveResult,
  type ScopeBudget,
  type ScopeState,
  type Who,
} from "../domain/ledger";
import { budgetAlertBody, crossedThresholds } from "../domain/budget-alerts";
import { compositeKey } from "../domain/composite-key";
import { BucketStore } from "./bucket-store";
import { RateWindows } from "./rate-windows";
import type { EntryRow } from "./ledger-entries";
import {
  concurrencyFits,
  CONCURRENCY_RETRY_AFTER_SECONDS,
  DERIVED_KEY_TTL_MS,
  IDEMPOTENCY_TTL_MS,
  idempotencyDecision,
  type IdempotencyRecord,
} from "../domain/ledger-limits";

/** What a reservation is for: a video task (counts as an unfinished task) or a hold for one request (chat). */
export type ReservationKind = "task" | "hold";

export type ReservationRow = Who & {
  task_id: string;
  key_id: string;
  model: string;
  amount_micros: number;
  state: "open" | "settled" | "released";
  charged_micros: number | null;
  created_at: number;
  kind: ReservationKind;
  cost_micros: number | null;
};
/** Who an entry names: its task and model beside the subjects it counts for. */
type EntryWho = Who & { task_id: string; model: string };
/** What an entry records of RunAPI's side: its cost behind the amount. */
type Cost = number | null;

/** Why a reservation was refused, or (idempotency) whose task it replays. */
export type Admission = Exclude<ReserveResult, { ok: true }> | null;

/** The hot queries of this store, named for the query-plan test. */
export const LEDGER_SQL = {
  reservation: "SELECT * FROM reservations WHERE task_id = ?",
  openTasks: "SELECT COUNT(*) AS n FROM (SELECT 1 FROM reservations WHERE state = 'open' AND kind = 'task' LIMIT ?)",
  staleHolds: "SELECT * FROM reservations WHERE state = 'open' AND kind = 'hold' AND hold_until <= ? ORDER BY hold_until LIMIT ?",
  nextHoldDeadline: "SELECT MIN(hold_until) AS t FROM reservations WHERE state = 'open' AND kind = 'hold' AND hold_until IS NOT NULL",
  idempotency: "SELECT body_hash, task_id, created_at FROM idempotency WHERE key = ?",
} as const;

/** How often expired Idempotency-Keys and rate windows are swept (by the alarm). */
const CLEANUP_EVERY_MS = 3_600_000;

/**
 * A tenant's money in SQLite: escrow reservations (reserve → settle | release), the append-only entries,
 * and running totals for the budgets that bind (BucketStore). Every method is synchronous and runs
 * inside the caller's transaction: there is no `await` between a check and its write.
 */
export class LedgerStore {
  readonly buckets: BucketStore;
  /** Suspension and revocations, read once and then kept here: only this object changes them. */
  private flags: { suspended: boolean; revoked: Map<string, number> } | null = null;
  /** The budgets' totals `admit` read, for the `hold` that follows it. */
  private admitted: { req: ReserveRequest; totals: BucketTotals[] } | null = null;
  private cleanedAt = 0;
  /** Per-minute windows of keys and visitors, in memory (see RateWindows). */
  private readonly rates = new RateWindows();
  /** Budget alerts this object has queued since it started (the alarm is kept in time for them only when some were). */
  alertsQueued = 0;

  constructor(
    private readonly sql: SqlStorage,
    now: () => number,
  ) {
    this.buckets = new BucketStore(sql, now);
  }

  /** The first reason `req` may not be reserved (revoked → suspended → idempotency → rates → concurrency → budgets), or null. */
  admit(req: ReserveRequest, kind: ReservationKind): Admission {
    assertMicros("amountMicros", req.amountMicros, { nonNegative: true });
    assertBudgets(req.budgets);
    const flags = this.loadFlags();
    if (flags.suspended) return { ok: false, code: "tenant_disabled" };
    if ((flags.revoked.get(req.keyId) ?? Number.POSITIVE_INFINITY) <= req.now) return { ok: false, code: "key_revoked" };
    if (req.idempotency) {
      const row = this.sql.exec<IdempotencyRecord>(LEDGER_SQL.idempotency, req.idempotency.key).toArray()[0];
      const ttl = req.idempotency.derived ? DERIVED_KEY_TTL_MS : IDEMPOTENCY_TTL_MS;
      const seen = idempotencyDecision(row ?? null, req.idempotency.bodyHash, req.now, ttl);
      if (seen.kind === "replay") return { ok: false, code: "idempotent_replay", taskId: seen.taskId };
      if (seen.kind === "conflict") return { ok: false, code: "idempotency_conflict" };
    }
    const rpm = req.requestsPerMinute == null ? null : this.rates.check(req.keyId, req.requestsPerMinute, req.now);
    if (rpm && !rpm.ok) return { ok: false, code: "rate_limited", limit: "requests_per_minute", retryAfterSeconds: rpm.retryAfterSeconds };
    if (req.endUser !== null && req.endUserRequestsPerMinute != null) {
      const visitor = this.rates.check(visitorRpmKey(req.keyId, req.endUser), req.endUserRequestsPerMinute, req.now);
      if (!visitor.ok) return { ok: false, code: "rate_limited", limit: "end_user_requests_per_minute", retryAfterSeconds: visitor.retryAfterSeconds };
    }
    if (kind === "task" && req.maxConcurrentTasks != null) {
      // Counts no further than the limit, so a tenant with many unfinished tasks does not pay for all of them on every create.
      const open = this.sql.exec<{ n: number }>(LEDGER_SQL.openTasks, req.maxConcurrentTasks).one().n;
      if (!concurrencyFits(open, req.maxConcurrentTasks)) {
        return { ok: false, code: "rate_limited", limit: "max_concurrent_tasks", retryAfterSeconds: CONCURRENCY_RETRY_AFTER_SECONDS };
      }
    }
    const totals = req.budgets.map((b) => this.buckets.totals(budgetBucket(b, req.now)));
    const exceeded = firstExceeded(req.budgets, (_, i) => totals[i]!, req.amountMicros, req.now);
    this.admitted = exceeded ? null : { req, totals };
    return exceeded ? { ok: false, code: "budget_exceeded", scope: exceeded } : null;
  }

  /** Holds `req.amountMicros` in every tracked bucket it counts in, counts the request, remembers its Idempotency-Key. Call after `admit`. */
  hold(req: ReserveRequest, kind: ReservationKind, holdUntil: number | null = null): ScopeState[] {
    const before = this.admitted?.req === req ? this.admitted.totals : req.budgets.map((b) => this.buckets.totals(budgetBucket(b, req.now)));
    this.admitted = null;
    const who: EntryWho = { task_id: req.taskId, key_id: req.keyId, key_subject: keySubjectOf(req), end_user: req.endUser, model: req.model };
    const cost = req.costMicros ?? req.amountMicros;
    this.sql.exec(
      `INSERT INTO reservations (task_id, kind, key_id, key_subject, end_user, model, amount_micros, cost_micros, state, created_at, hold_until)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)`,
      req.taskId,
      kind,
      req.keyId,
      who.key_subject,
      req.endUser,
      req.model,
      req.amountMicros,
      cost,
      req.now,
      holdUntil,
    );
    this.append(req.now, "reserve", who, req.amountMicros, 0, null, req.now, cost);
    this.count(req);
    const idem = req.idempotency;
    if (idem)
      this.sql.exec(
        "INSERT OR REPLACE INTO idempotency (key, body_hash, task_id, created_at) VALUES (?, ?, ?, ?)",
        idem.key,
        idem.bodyHash,
        req.taskId,
        req.now,
      );
    // Each budget's bucket is one this reservation counts in: it now holds `amount` more.
    const after = req.budgets.map((b, i) =>
      scopeState(b, { spent_micros: before[i]!.spent_micros, reserved_micros: before[i]!.reserved_micros + req.amountMicros }, req.now),
    );
    if (req.alertThresholds?.length) {
      const usedBefore = before.map((t) => Math.max(0, t.spent_micros) + t.reserved_micros); // as `usage` reads it: a credit never makes spend negative
      this.queueAlerts(req, usedBefore, after);
    }
    return after;
  }

  /** Counts a request against its key's and its visitor's per-minute limits (only under a limit: a limit set later counts from then on). Call after `admit`. */
  count(req: Pick<ReserveRequest, "keyId" | "endUser" | "now" | "requestsPerMinute" | "endUserRequestsPerMinute">): void {
    if (req.requestsPerMinute != null) this.rates.count(req.keyId, req.now);
    if (req.endUser !== null && req.endUserRequestsPerMinute != null) this.rates.count(visitorRpmKey(req.keyId, req.endUser), req.now);
  }

  /** Budget alerts this reservation set off: one per scope, window and threshold, ever (INSERT OR IGNORE). */
  private queueAlerts(req: ReserveRequest, usedBefore: number[], after: ScopeState[]): void {
    const tenantId = req.budgets.find((b) => b.scope === "tenant")?.subject ?? "";
    after.forEach((state, i) => {
      const budget = req.budgets[i]!;
      const used = state.spent_micros + state.reserved_micros;
      for (const threshold of crossedThresholds(state.limit_micros, usedBefore[i]!, used, req.alertThresholds!)) {
        this.alertsQueued += 1;
        this.sql.exec(
          `INSERT OR IGNORE INTO alerts (scope, subject, period, window_start, threshold, body, created_at, state, next_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
          state.scope,
          state.subject,
          state.period,
          budgetBucket(budget, req.now).window_start,
          threshold,
          JSON.stringify(budgetAlertBody(tenantId, state, threshold)),
          req.now,
          req.now,
        );
      }
    });
  }

  /**
   * Moves an open reservation to spent at `charge` (settled) or frees it (released), in the buckets it was made in;
   * `cost` is RunAPI's cost behind the charge (by default the reservation's cost scaled to the charge); `row`, the reservation
   * when the caller has just read it. False when it was not open.
   */
  close(taskId: string, state: "settled" | "released", charge: number, now: number, reason: string | null, cost?: Cost, row?: ReservationRow): boolean {
    assertMicros("charge", charge, { nonNegative: true });
    const r = row ?? this.reservation(taskId);
    if (r?.state !== "open") return false;
    this.sql.exec("UPDATE reservations SET state = ?, charged_micros = ?, closed_at = ? WHERE task_id = ?", state, charge, now, r.task_id);
    const reservedCost = r.cost_micros ?? r.amount_micros;
    const scaled = r.amount_micros > 0 ? Math.round((reservedCost * charge) / r.amount_micros) : 0;
    this.append(now, state === "settled" ? "settle" : "release", r, charge, r.amount_micros, reason, r.created_at, state === "settled" ? (cost ?? scaled) : 0);
    return true;
  }

  /** Forgets Idempotency-Keys older than 24 h and spent rate windows, at most once an hour (each an indexed range). */
  forgetExpired(now: number): void {
    if (now - this.cleanedAt < CLEANUP_EVERY_MS) return;
    this.sql.exec("DELETE FROM idempotency WHERE created_at <= ?", now - IDEMPOTENCY_TTL_MS);
    this.rates.forget(now);
    this.cleanedAt = now;
  }

  /** Refuses every reservation with this key from `at` on (now: revoked; later: a rotated key's overlap ends). The earliest time wins. */
  revoke(keyId: string, at: number): void {
    this.sql.exec("INSERT INTO revoked_keys (key_id, at) VALUES (?, ?) ON CONFLICT (key_id) DO UPDATE SET at = MIN(at, excluded.at)", keyId, at);
    this.flags = null;
  }

  /** Refuses (true) or allows again (false) every new reservation of the tenant. */
  suspend(suspended: boolean, now: number): void {
    if (suspended) this.sql.exec("INSERT INTO suspension (id, at) VALUES (1, ?) ON CONFLICT DO NOTHING", now);
    else this.sql.exec("DELETE FROM suspension");
    this.flags = null;
  }

  /**
   * Lets a client reuse the Idempotency-Key of a task that RunAPI never accepted. By its key (the task record keeps
   * it); a task made before records kept it is looked for by id, a search of the last 24 h of keys, once.
   */
  forgetIdempotency(taskId: string, key: string | undefined): void {
    if (key === undefined) this.sql.exec("DELETE FROM idempotency WHERE task_id = ?", taskId);
    else this.sql.exec("DELETE FROM idempotency WHERE key = ? AND task_id = ?", key, taskId);
  }

  reservation(taskId: string): ReservationRow | undefined {
    return this.sql.exec<ReservationRow>(LEDGER_SQL.reservation, taskId).toArray()[0];
  }

  /** Open holds (not tasks) whose deadline has passed at `now`, oldest first. */
  staleHolds(now: number, limit: number): ReservationRow[] {
    return this.sql.exec<ReservationRow>(LEDGER_SQL.staleHolds, now, limit).toArray();
  }

  /** The earliest deadline of an open hold, or null. */
  nextHoldDeadline(): number | null {
    return this.sql.exec<{ t: number | null }>(LEDGER_SQL.nextHoldDeadline).one().t;
  }

  /** An operator's credit (positive lowers the tenant's spent) or debit (negative); returns the entry id. */
  adjust(amountMicros: number, reason: string, now: number): number {
    assertMicros("amountMicros", amountMicros, { nonNegative: false });
    if (amountMicros === 0) throw new RangeError("an adjustment must not be zero");
    if (!reason.trim()) throw new RangeError("an adjustment needs a reason");
    return this.append(now, "adjust", null, amountMicros, 0, reason, now, null);
  }

  /** Every budget's state in its window at `now`. */
  usage(now: number, budgets: ScopeBudget[]): ScopeState[] {
    assertBudgets(budgets);
    return budgets.map((b) => scopeState(b, this.buckets.totals(budgetBucket(b, now)), now));
  }

  /** Every bucket kept equals what its entries (and, for `total`, those moved out) add up to, and reserved equals the open reservations. */
  audit(): AuditResult {
    const open = this.sql.exec<ReservationRow>("SELECT * FROM reservations WHERE state = 'open'").toArray();
    const entries = this.sql.exec<EntryRow>("SELECT * FROM entries ORDER BY id").toArray();
    const rollup = new Map<string, BucketTotals>();
    for (const r of this.sql.exec<{ scope: string; subject: string } & BucketTotals>("SELECT * FROM ledger_rollup")) rollup.set(`${r.scope}|${r.subject}`, r);
    return auditTotals(entries, open, this.buckets.all(), rollup);
  }

  private append(
    at: number,
    type: LedgerEntry["type"],
    who: EntryWho | null,
    amount: number,
    reserved: number,
    reason: string | null,
    bookedAt: number,
    cost: Cost,
  ): number {
    const id = this.sql
      .exec<{ id: number }>(
        `INSERT INTO entries (at, booked_at, type, task_id, key_id, key_subject, end_user, model, amount_micros, reserved_micros, cost_micros, reason)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        at,
        bookedAt,
        type,
        who?.task_id ?? null,
        who?.key_id ?? null,
        who?.key_subject ?? null,
        who?.end_user ?? null,
        who?.model ?? null,
        amount,
        reserved,
        cost,
        reason,
      )
      .one().id;
    this.buckets.apply(
      who ?? { key_id: null, key_subject: null, end_user: null },
      bookedAt,
      entryEffect({ type, amount_micros: amount, reserved_micros: reserved }),
    );
    return id;
  }

  private loadFlags(): { suspended: boolean; revoked: Map<string, number> } {
    this.flags ??= {
      suspended: this.sql.exec("SELECT 1 FROM suspension").toArray().length > 0,
      revoked: new Map(
        this.sql
          .exec<{ key_id: string; at: number }>("SELECT key_id, at FROM revoked_keys")
          .toArray()
          .map((r) => [r.key_id, r.at]),
      ),
    };
    return this.flags;
  }
}

/** The rate window key of one visitor of one publishable key (a key's own window is under its bare id). */
function visitorRpmKey(keyId: string, endUser: string): string {
  return compositeKey("eu", keyId, endUser);
}
