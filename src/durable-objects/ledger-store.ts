import { auditTotals, type AuditResult } from "../domain/ledger-audit";
import {
  assertBudgets,
  assertMicros,
  bucketId,
  budgetBucket,
  firstExceeded,
  reservationBuckets,
  scopeState,
  type BucketKey,
  type BucketTotals,
  type LedgerEntry,
  type ReserveRequest,
  type ReserveResult,
  type ScopeBudget,
  type ScopeState,
} from "../domain/ledger";
import { budgetAlertBody, crossedThresholds } from "../domain/budget-alerts";
import { compositeKey } from "../domain/composite-key";
import {
  concurrencyFits,
  CONCURRENCY_RETRY_AFTER_SECONDS,
  DERIVED_KEY_TTL_MS,
  IDEMPOTENCY_TTL_MS,
  idempotencyDecision,
  RPM_WINDOW_MS,
  rpmDecision,
  type IdempotencyRecord,
  type RpmWindow,
} from "../domain/ledger-limits";

/** What a reservation is for: a video task (counts as an unfinished task) or a hold for one request (chat). */
export type ReservationKind = "task" | "hold";

export type ReservationRow = {
  task_id: string;
  key_id: string;
  end_user: string | null;
  model: string;
  amount_micros: number;
  buckets: string;
  state: "open" | "settled" | "released";
  charged_micros: number | null;
  created_at: number;
  kind: ReservationKind;
  cost_micros: number | null;
};
type EntryRow = Omit<LedgerEntry, "at" | "booked_at"> & { at: number; booked_at: number | null };
type Who = Pick<ReserveRequest, "taskId" | "keyId" | "endUser" | "model">;
/** What an entry records of RunAPI's side: its cost behind the amount. */
type Cost = number | null;

/** Why a reservation was refused, or (idempotency) whose task it replays. */
export type Admission = Exclude<ReserveResult, { ok: true }> | null;

/**
 * A tenant's money in SQLite: buckets of running totals per scope and period, escrow reservations
 * (reserve → settle | release), and the append-only entries. Every method is synchronous and runs
 * inside the caller's transaction: there is no `await` between a check and its write.
 */
export class LedgerStore {
  constructor(private readonly sql: SqlStorage) {}

  /** The first reason `req` may not be reserved (revoked → suspended → idempotency → rates → concurrency → budgets), or null. */
  admit(req: ReserveRequest, kind: ReservationKind): Admission {
    assertMicros("amountMicros", req.amountMicros, { nonNegative: true });
    assertBudgets(req.budgets);
    if (this.sql.exec("SELECT 1 FROM suspension").toArray().length) return { ok: false, code: "tenant_disabled" };
    if (this.sql.exec("SELECT 1 FROM revoked_keys WHERE key_id = ? AND at <= ?", req.keyId, req.now).toArray().length)
      return { ok: false, code: "key_revoked" };
    if (req.idempotency) {
      const row = this.sql.exec<IdempotencyRecord>("SELECT body_hash, task_id, created_at FROM idempotency WHERE key = ?", req.idempotency.key).toArray()[0];
      const ttl = req.idempotency.derived ? DERIVED_KEY_TTL_MS : IDEMPOTENCY_TTL_MS;
      const seen = idempotencyDecision(row ?? null, req.idempotency.bodyHash, req.now, ttl);
      if (seen.kind === "replay") return { ok: false, code: "idempotent_replay", taskId: seen.taskId };
      if (seen.kind === "conflict") return { ok: false, code: "idempotency_conflict" };
    }
    const rpm = req.requestsPerMinute == null ? null : rpmDecision(this.rpmRow(req.keyId), req.requestsPerMinute, req.now);
    if (rpm && !rpm.ok) return { ok: false, code: "rate_limited", limit: "requests_per_minute", retryAfterSeconds: rpm.retryAfterSeconds };
    if (req.endUser !== null && req.endUserRequestsPerMinute != null) {
      const visitor = rpmDecision(this.rpmRow(visitorRpmKey(req.keyId, req.endUser)), req.endUserRequestsPerMinute, req.now);
      if (!visitor.ok) return { ok: false, code: "rate_limited", limit: "end_user_requests_per_minute", retryAfterSeconds: visitor.retryAfterSeconds };
    }
    if (kind === "task" && req.maxConcurrentTasks != null) {
      // Counts no further than the limit, so a tenant with many unfinished tasks does not pay for all of them on every create.
      const open = this.sql
        .exec<{ n: number }>("SELECT COUNT(*) AS n FROM (SELECT 1 FROM reservations WHERE state = 'open' AND kind = 'task' LIMIT ?)", req.maxConcurrentTasks)
        .one().n;
      if (!concurrencyFits(open, req.maxConcurrentTasks)) {
        return { ok: false, code: "rate_limited", limit: "max_concurrent_tasks", retryAfterSeconds: CONCURRENCY_RETRY_AFTER_SECONDS };
      }
    }
    const exceeded = firstExceeded(req.budgets, (b) => this.totals(b), req.amountMicros, req.now);
    return exceeded ? { ok: false, code: "budget_exceeded", scope: exceeded } : null;
  }

  /** Holds `req.amountMicros` in every bucket it applies to, counts the request, remembers its Idempotency-Key. Call after `admit`. */
  hold(req: ReserveRequest, kind: ReservationKind, holdUntil: number | null = null): ScopeState[] {
    const usedBefore = req.budgets.map((b) => {
      const t = this.totals(budgetBucket(b, req.now));
      return Math.max(0, t.spent_micros) + t.reserved_micros; // as `usage` reads it: a credit never makes spend negative
    });
    const buckets = reservationBuckets(req);
    for (const b of buckets) this.addToBucket(b, 0, req.amountMicros);
    this.sql.exec(
      "INSERT INTO reservations (task_id, key_id, end_user, model, amount_micros, buckets, state, created_at, kind, hold_until, cost_micros) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)",
      req.taskId,
      req.keyId,
      req.endUser,
      req.model,
      req.amountMicros,
      JSON.stringify(buckets),
      req.now,
      kind,
      holdUntil,
      req.costMicros ?? req.amountMicros,
    );
    this.append(req.now, "reserve", req, req.amountMicros, 0, null, req.now, req.costMicros ?? req.amountMicros);
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
    const after = this.usage(req.now, req.budgets);
    if (req.alertThresholds?.length) this.queueAlerts(req, usedBefore, after);
    return after;
  }

  /** Counts a request against its key's and its visitor's per-minute limits (only under a limit: a limit set later counts from then on). Call after `admit`. */
  count(req: Pick<ReserveRequest, "keyId" | "endUser" | "now" | "requestsPerMinute" | "endUserRequestsPerMinute">): void {
    if (req.requestsPerMinute != null) this.countRequest(req.keyId, req.now);
    if (req.endUser !== null && req.endUserRequestsPerMinute != null) this.countRequest(visitorRpmKey(req.keyId, req.endUser), req.now);
  }

  /** Budget alerts this reservation set off: one per scope, window and threshold, ever (INSERT OR IGNORE). */
  private queueAlerts(req: ReserveRequest, usedBefore: number[], after: ScopeState[]): void {
    const tenantId = req.budgets.find((b) => b.scope === "tenant")?.subject ?? "";
    after.forEach((state, i) => {
      const budget = req.budgets[i]!;
      const used = state.spent_micros + state.reserved_micros;
      for (const threshold of crossedThresholds(state.limit_micros, usedBefore[i]!, used, req.alertThresholds!)) {
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
   * `cost` is RunAPI's cost behind the charge (by default the reservation's cost scaled to the charge). False when it was not open.
   */
  close(taskId: string, state: "settled" | "released", charge: number, now: number, reason: string | null, cost?: Cost): boolean {
    assertMicros("charge", charge, { nonNegative: true });
    const r = this.reservation(taskId);
    if (r?.state !== "open") return false;
    for (const b of parseBuckets(r.buckets)) this.addToBucket(b, charge, -r.amount_micros);
    this.sql.exec("UPDATE reservations SET state = ?, charged_micros = ?, closed_at = ? WHERE task_id = ?", state, charge, now, r.task_id);
    const who = { taskId: r.task_id, keyId: r.key_id, endUser: r.end_user, model: r.model };
    const reservedCost = r.cost_micros ?? r.amount_micros;
    const scaled = r.amount_micros > 0 ? Math.round((reservedCost * charge) / r.amount_micros) : 0;
    this.append(
      now,
      state === "settled" ? "settle" : "release",
      who,
      charge,
      r.amount_micros,
      reason,
      r.created_at,
      state === "settled" ? (cost ?? scaled) : 0,
    );
    return true;
  }

  /** Forgets Idempotency-Keys older than 24 h and spent rate windows, at most once an hour. */
  forgetExpired(now: number): void {
    const last = this.sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'cleanup_at'").toArray()[0]?.value ?? 0;
    if (now - last < 3_600_000) return;
    this.sql.exec("DELETE FROM idempotency WHERE created_at <= ?", now - IDEMPOTENCY_TTL_MS);
    this.sql.exec("DELETE FROM rpm WHERE window_start <= ?", now - RPM_WINDOW_MS);
    this.sql.exec("INSERT INTO meta (key, value) VALUES ('cleanup_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", now);
  }

  /** Refuses every reservation with this key from `at` on (now: revoked; later: a rotated key's overlap ends). The earliest time wins. */
  revoke(keyId: string, at: number): void {
    this.sql.exec("INSERT INTO revoked_keys (key_id, at) VALUES (?, ?) ON CONFLICT (key_id) DO UPDATE SET at = MIN(at, excluded.at)", keyId, at);
  }

  /** Refuses (true) or allows again (false) every new reservation of the tenant. */
  suspend(suspended: boolean, now: number): void {
    if (suspended) this.sql.exec("INSERT INTO suspension (id, at) VALUES (1, ?) ON CONFLICT DO NOTHING", now);
    else this.sql.exec("DELETE FROM suspension");
  }

  /** Lets a client reuse the Idempotency-Key of a task that RunAPI never accepted. */
  forgetIdempotency(taskId: string): void {
    this.sql.exec("DELETE FROM idempotency WHERE task_id = ?", taskId);
  }

  reservation(taskId: string): ReservationRow | undefined {
    return this.sql.exec<ReservationRow>("SELECT * FROM reservations WHERE task_id = ?", taskId).toArray()[0];
  }

  /** Open holds (not tasks) whose deadline has passed at `now`, oldest first. */
  staleHolds(now: number, limit: number): ReservationRow[] {
    return this.sql
      .exec<ReservationRow>("SELECT * FROM reservations WHERE state = 'open' AND kind = 'hold' AND hold_until <= ? ORDER BY hold_until LIMIT ?", now, limit)
      .toArray();
  }

  /** The earliest deadline of an open hold, or null. */
  nextHoldDeadline(): number | null {
    return this.sql.exec<{ t: number | null }>("SELECT MIN(hold_until) AS t FROM reservations WHERE state = 'open' AND kind = 'hold'").one().t;
  }

  /** An operator's credit (positive lowers spent) or debit (negative) in the given buckets; returns the entry id. */
  adjust(buckets: BucketKey[], amountMicros: number, reason: string, now: number): number {
    for (const b of buckets) this.addToBucket(b, -amountMicros, 0);
    return this.append(now, "adjust", null, amountMicros, 0, reason, now, null);
  }

  /** Every budget's state in its window at `now`. */
  usage(now: number, budgets: ScopeBudget[]): ScopeState[] {
    assertBudgets(budgets);
    return budgets.map((b) => scopeState(b, this.totals(budgetBucket(b, now)), now));
  }

  /** One page of entries in append order; see `TenantLedger.entries`. */
  entries(opts: { from?: number; to?: number; limit?: number; afterId?: number; by?: "at" | "booked_at" }): {
    entries: LedgerEntry[];
    next_after_id: number | null;
  } {
    const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 1000), 1), 10_000);
    const column = opts.by === "booked_at" ? "COALESCE(booked_at, at)" : "at";
    const rows = this.sql
      .exec<EntryRow>(
        `SELECT * FROM entries WHERE ${column} >= ? AND ${column} < ? AND id > ? ORDER BY id LIMIT ?`,
        opts.from ?? 0,
        opts.to ?? Number.MAX_SAFE_INTEGER,
        opts.afterId ?? 0,
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    return {
      entries: page.map((r) => ({ ...r, at: new Date(r.at).toISOString(), booked_at: new Date(r.booked_at ?? r.at).toISOString() })),
      next_after_id: rows.length > limit ? page[page.length - 1]!.id : null,
    };
  }

  /** What was charged (tenant's price) and what RunAPI cost, per model, over settled entries in `from` ≤ at < `to`. */
  margins(from: number, to: number): { model: string; requests: number; charged_micros: number; cost_micros: number }[] {
    return this.sql
      .exec<{ model: string; requests: number; charged_micros: number; cost_micros: number }>(
        `SELECT COALESCE(model, '') AS model, COUNT(*) AS requests, SUM(amount_micros) AS charged_micros, SUM(COALESCE(cost_micros, amount_micros)) AS cost_micros
         FROM entries WHERE type = 'settle' AND at >= ? AND at < ? GROUP BY model ORDER BY model`,
        from,
        to,
      )
      .toArray();
  }

  /** Buckets equal what their entries add up to, and reserved equals the open reservations. */
  audit(): AuditResult {
    const reservations = this.sql.exec<ReservationRow>("SELECT * FROM reservations").toArray();
    const bucketsByTask = new Map(reservations.map((r) => [r.task_id, parseBuckets(r.buckets)]));
    const open = reservations.filter((r) => r.state === "open").map((r) => ({ amount_micros: r.amount_micros, buckets: parseBuckets(r.buckets) }));
    const actual = new Map<string, BucketTotals>();
    for (const b of this.sql.exec<BucketKey & BucketTotals>("SELECT * FROM buckets")) actual.set(bucketId(b), b);
    const entries = this.sql.exec<EntryRow>("SELECT * FROM entries ORDER BY id").toArray();
    return auditTotals(entries, (taskId) => bucketsByTask.get(taskId) ?? null, open, actual);
  }

  totals(b: BucketKey): BucketTotals {
    const sql = "SELECT spent_micros, reserved_micros FROM buckets WHERE scope = ? AND subject = ? AND period = ? AND window_start = ?";
    return this.sql.exec<BucketTotals>(sql, b.scope, b.subject, b.period, b.window_start).toArray()[0] ?? { spent_micros: 0, reserved_micros: 0 };
  }

  private rpmRow(key: string): RpmWindow | null {
    return this.sql.exec<RpmWindow>("SELECT window_start, count FROM rpm WHERE key_id = ?", key).toArray()[0] ?? null;
  }

  private countRequest(key: string, now: number): void {
    const rpm = rpmDecision(this.rpmRow(key), null, now);
    if (!rpm.ok) return;
    this.sql.exec(
      "INSERT INTO rpm (key_id, window_start, count) VALUES (?, ?, ?) ON CONFLICT (key_id) DO UPDATE SET window_start = excluded.window_start, count = excluded.count",
      key,
      rpm.next.window_start,
      rpm.next.count,
    );
  }

  private append(
    at: number,
    type: LedgerEntry["type"],
    who: Who | null,
    amount: number,
    reserved: number,
    reason: string | null,
    bookedAt: number,
    cost: Cost,
  ): number {
    return this.sql
      .exec<{ id: number }>(
        "INSERT INTO entries (at, type, task_id, key_id, end_user, model, amount_micros, reserved_micros, reason, booked_at, cost_micros) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        at,
        type,
        who?.taskId ?? null,
        who?.keyId ?? null,
        who?.endUser ?? null,
        who?.model ?? null,
        amount,
        reserved,
        reason,
        bookedAt,
        cost,
      )
      .one().id;
  }

  private addToBucket(b: BucketKey, spent: number, reserved: number): void {
    this.sql.exec(
      `INSERT INTO buckets (scope, subject, period, window_start, spent_micros, reserved_micros) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET spent_micros = spent_micros + excluded.spent_micros, reserved_micros = reserved_micros + excluded.reserved_micros`,
      b.scope,
      b.subject,
      b.period,
      b.window_start,
      spent,
      reserved,
    );
  }
}

/** The rpm-table key of one visitor of one publishable key (a key's own row is its bare id). */
function visitorRpmKey(keyId: string, endUser: string): string {
  return compositeKey("eu", keyId, endUser);
}

function parseBuckets(json: string): BucketKey[] {
  return JSON.parse(json) as BucketKey[];
}
