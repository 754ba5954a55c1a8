import { DurableObject } from "cloudflare:workers";
import { auditTotals, type AuditResult } from "../domain/ledger-audit";
import {
  adjustmentBuckets, assertBudgets, assertMicros, bucketId, budgetBucket, firstExceeded, reservationBuckets, scopeState,
  type BucketKey, type BucketTotals, type LedgerEntry, type ReserveRequest, type ReserveResult, type ScopeBudget, type ScopeState,
} from "../domain/ledger";
import {
  concurrencyFits, CONCURRENCY_RETRY_AFTER_SECONDS, decodeCursor, encodeCursor, IDEMPOTENCY_TTL_MS, idempotencyDecision,
  rpmDecision, RPM_WINDOW_MS, nextSweepAt, parseSettlementState, SWEEP_GRACE_MS, sweepAction, type IdempotencyRecord, type RpmWindow, type SettlementState, type TaskPage,
} from "../domain/ledger-limits";
import { canTransition, TASK_STATUSES, type TaskStatus } from "../domain/task-state";
import { loadConfig, type Bindings } from "../env";
import { archiveUsage, ensureArchiveTally, tallyStored, type VideoStorage } from "../archive/tally";

export type { LedgerEntry, ReserveRequest, ReserveResult, Scope, ScopeBudget, ScopeState } from "../domain/ledger";
export type { AuditResult } from "../domain/ledger-audit";
export type { SettlementState, TaskPage } from "../domain/ledger-limits";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, type TEXT NOT NULL,
  task_id TEXT, key_id TEXT, end_user TEXT, model TEXT, amount_micros INTEGER NOT NULL, reserved_micros INTEGER NOT NULL, reason TEXT,
  booked_at INTEGER);
CREATE INDEX IF NOT EXISTS entries_at ON entries (at, id);
CREATE TABLE IF NOT EXISTS buckets (scope TEXT NOT NULL, subject TEXT NOT NULL, period TEXT NOT NULL, window_start INTEGER NOT NULL,
  spent_micros INTEGER NOT NULL, reserved_micros INTEGER NOT NULL, PRIMARY KEY (scope, subject, period, window_start)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reservations (task_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, end_user TEXT, model TEXT NOT NULL,
  amount_micros INTEGER NOT NULL, buckets TEXT NOT NULL, state TEXT NOT NULL, charged_micros INTEGER, created_at INTEGER NOT NULL, closed_at INTEGER);
CREATE INDEX IF NOT EXISTS reservations_state ON reservations (state, created_at);
CREATE TABLE IF NOT EXISTS tasks (task_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, model TEXT NOT NULL, status TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, end_user TEXT);
CREATE INDEX IF NOT EXISTS tasks_newest ON tasks (created_at, task_id);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status, created_at, task_id);
CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, body_hash TEXT NOT NULL, task_id TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS idempotency_task ON idempotency (task_id);
CREATE INDEX IF NOT EXISTS idempotency_age ON idempotency (created_at);
CREATE TABLE IF NOT EXISTS revoked_keys (key_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS suspension (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rpm (key_id TEXT PRIMARY KEY, window_start INTEGER NOT NULL, count INTEGER NOT NULL);
`;

type ReservationRow = {
  task_id: string; key_id: string; end_user: string | null; model: string; amount_micros: number;
  buckets: string; state: "open" | "settled" | "released"; charged_micros: number | null; created_at: number;
};
type EntryRow = Omit<LedgerEntry, "at" | "booked_at"> & { at: number; booked_at: number | null };
type Who = Pick<ReserveRequest, "taskId" | "keyId" | "endUser" | "model">;
type TaskRow = { task_id: string; key_id: string; model: string; status: string; created_at: number };

/** How the sweep asks a task's object about its money (`VideoTask.settlementState`). */
interface TaskSettlementSource {
  settlementState(): Promise<SettlementState | null>;
}

/** Stale reservations the sweep reconciles per run; more are picked up by the next alarm, a second later. */
const SWEEP_BATCH = 50;

/** One tenant's money: budgets per scope and period, escrow reservations (reserve → settle | release), the ledger, the task index. */
export class TenantLedger extends DurableObject<Bindings> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(SCHEMA);
      // Local state from before these columns existed.
      const has = (table: string, column: string) =>
        this.sql.exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`).toArray().some((c) => c.name === column);
      if (!has("tasks", "end_user")) this.sql.exec("ALTER TABLE tasks ADD COLUMN end_user TEXT");
      if (!has("entries", "booked_at")) this.sql.exec("ALTER TABLE entries ADD COLUMN booked_at INTEGER");
      ensureArchiveTally(this.sql);
    });
  }

  /** Holds `amountMicros` against every budget, or says why not (revoked → idempotency → rpm → concurrency → budgets). */
  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    const result = this.ctx.storage.transactionSync(() => this.reserveNow(req));
    if (result.ok && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + this.ttlMs() + SWEEP_GRACE_MS);
    return result;
  }

  /** Moves a reservation to spent at the actual charge, exactly once; later calls return the recorded charge. */
  settle(taskId: string, chargeMicros: number, now: number, note: string | null = null): { settled: boolean; charged_micros: number } {
    assertMicros("chargeMicros", chargeMicros, { nonNegative: true });
    return this.ctx.storage.transactionSync(() => {
      const r = this.reservation(taskId);
      if (!r) return { settled: false, charged_micros: 0 };
      if (r.state !== "open") return { settled: false, charged_micros: r.charged_micros ?? 0 };
      this.close(r, "settled", chargeMicros, now, note);
      return { settled: true, charged_micros: chargeMicros };
    });
  }

  /** Frees a reservation without charge, exactly once; `forgetIdempotency` lets the client retry with the same key. */
  release(taskId: string, now: number, reason: string, opts?: { forgetIdempotency?: boolean }): { released: boolean } {
    return this.ctx.storage.transactionSync(() => {
      const r = this.reservation(taskId);
      const released = r?.state === "open";
      if (r && released) this.close(r, "released", 0, now, reason);
      if (r && opts?.forgetIdempotency && (released || r.state === "released")) this.sql.exec("DELETE FROM idempotency WHERE task_id = ?", taskId);
      return { released };
    });
  }

  /** An operator's credit (positive: lowers the tenant scope's spent in every period's current window) or debit (negative). */
  adjust(amountMicros: number, reason: string, now: number, budgets?: ScopeBudget[]): { entry_id: number; budgets: ScopeState[] } {
    assertMicros("amountMicros", amountMicros, { nonNegative: false });
    if (amountMicros === 0) throw new RangeError("an adjustment must not be zero");
    if (!reason.trim()) throw new RangeError("an adjustment needs a reason");
    return this.ctx.storage.transactionSync(() => {
      for (const b of adjustmentBuckets(now)) this.addToBucket(b, -amountMicros, 0);
      const entryId = this.append(now, "adjust", null, amountMicros, 0, reason);
      return { entry_id: entryId, budgets: budgets ? this.usage(now, budgets) : [] };
    });
  }

  /** Every budget's state in its window at `now`. */
  usage(now: number, budgets: ScopeBudget[]): ScopeState[] {
    assertBudgets(budgets);
    return budgets.map((b) => scopeState(b, this.totals(budgetBucket(b, now)), now));
  }

  /**
   * Ledger entries in append order, one page at a time (default 1000, at most 10 000). `from` ≤ t < `to`
   * filters on `at`, or on `booked_at` (the budget window an entry counts in) when `by` says so;
   * `afterId` is the previous page's `next_after_id`.
   */
  entries(opts: { from?: number; to?: number; limit?: number; afterId?: number; by?: "at" | "booked_at" }): { entries: LedgerEntry[]; next_after_id: number | null } {
    const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 1000), 1), 10_000);
    const column = opts.by === "booked_at" ? "COALESCE(booked_at, at)" : "at";
    const rows = this.sql
      .exec<EntryRow>(
        `SELECT * FROM entries WHERE ${column} >= ? AND ${column} < ? AND id > ? ORDER BY id LIMIT ?`,
        opts.from ?? 0, opts.to ?? Number.MAX_SAFE_INTEGER, opts.afterId ?? 0, limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    return {
      entries: page.map((r) => ({ ...r, at: new Date(r.at).toISOString(), booked_at: new Date(r.booked_at ?? r.at).toISOString() })),
      next_after_id: rows.length > limit ? page[page.length - 1]!.id : null,
    };
  }

  /** Refuses every later reservation with this key, whatever KV still says. */
  revokeKey(keyId: string, now: number): void {
    this.sql.exec("INSERT INTO revoked_keys (key_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING", keyId, now);
  }

  /** Refuses (true) or allows again (false) every new reservation of the tenant, at once — KV follows later. */
  setSuspended(suspended: boolean, now: number): void {
    if (suspended) this.sql.exec("INSERT INTO suspension (id, at) VALUES (1, ?) ON CONFLICT DO NOTHING", now);
    else this.sql.exec("DELETE FROM suspension");
  }

  /** Records a task's status change in the index; states only move forward, unknown tasks are ignored. */
  setTaskStatus(taskId: string, status: string, now: number): void {
    if (!TASK_STATUSES.includes(status as TaskStatus)) throw new RangeError(`unknown task status: ${status}`);
    const row = this.sql.exec<{ status: string }>("SELECT status FROM tasks WHERE task_id = ?", taskId).toArray()[0];
    if (!row || !canTransition(row.status as TaskStatus, status as TaskStatus)) return;
    this.sql.exec("UPDATE tasks SET status = ?, updated_at = ? WHERE task_id = ?", status, now, taskId);
  }

  /** The tenant's tasks, newest first, optionally of one status; `cursor` is the previous page's `next_cursor`. */
  listTasks(opts: { status?: string; limit: number; cursor?: string; keyId?: string; endUser?: string | null }): TaskPage {
    const limit = Math.min(Math.max(Math.trunc(opts.limit) || 1, 1), 1000);
    const after = opts.cursor ? decodeCursor(opts.cursor) : null;
    if (opts.cursor && !after) throw new RangeError("invalid cursor");
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (opts.status) (where.push("status = ?"), args.push(opts.status));
    if (opts.keyId !== undefined) (where.push("key_id = ?"), args.push(opts.keyId));
    if (opts.endUser !== undefined) where.push(opts.endUser === null ? "end_user IS NULL" : (args.push(opts.endUser), "end_user = ?"));
    if (after) (where.push("(created_at < ? OR (created_at = ? AND task_id < ?))"), args.push(after.created_at, after.created_at, after.task_id));
    const sql = `SELECT task_id, key_id, model, status, created_at FROM tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY created_at DESC, task_id DESC LIMIT ?`;
    const rows = this.sql.exec<TaskRow>(sql, ...args, limit + 1).toArray();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      tasks: page.map((t) => ({ id: t.task_id, status: t.status, model: t.model, key_id: t.key_id, created_at: new Date(t.created_at).toISOString() })),
      next_cursor: rows.length > limit && last ? encodeCursor({ created_at: last.created_at, task_id: last.task_id }) : null,
    };
  }

  /** Counts a video the archive stored for one of the tenant's tasks. */
  recordArchivedVideo(taskId: string, index: number, bytes: number, storedAt: number): void {
    tallyStored(this.sql, { taskId, index, bytes, storedAt });
  }

  /** The tenant's archived videos at `now` (those within retention). */
  videoStorage(now: number, retentionMs: number): VideoStorage {
    return archiveUsage(this.sql, now, retentionMs);
  }

  /** Audit for tests and operators: buckets equal what their entries add up to, and reserved equals the open reservations. */
  totalsCheck(): AuditResult {
    const reservations = this.sql.exec<ReservationRow>("SELECT * FROM reservations").toArray();
    const bucketsByTask = new Map(reservations.map((r) => [r.task_id, parseBuckets(r.buckets)]));
    const open = reservations.filter((r) => r.state === "open").map((r) => ({ amount_micros: r.amount_micros, buckets: parseBuckets(r.buckets) }));
    const actual = new Map<string, BucketTotals>();
    for (const b of this.sql.exec<BucketKey & BucketTotals>("SELECT * FROM buckets")) actual.set(bucketId(b), b);
    const entries = this.sql.exec<EntryRow>("SELECT * FROM entries ORDER BY id").toArray();
    return auditTotals(entries, (taskId) => bucketsByTask.get(taskId) ?? null, open, actual);
  }

  /**
   * Reconciles open reservations older than the task TTL + grace with their task's object:
   * completed → settle, failed/expired/no such task → release, live or unreachable → keep.
   * Also forgets Idempotency-Keys older than 24 h. Safe to run twice.
   */
  async sweep(now: number): Promise<{ settled: number; released: number; kept: number; failed: number; more: boolean }> {
    this.sql.exec("DELETE FROM idempotency WHERE created_at <= ?", now - IDEMPOTENCY_TTL_MS);
    this.sql.exec("DELETE FROM rpm WHERE window_start <= ?", now - RPM_WINDOW_MS);
    const stale = this.sql
      .exec<ReservationRow>("SELECT * FROM reservations WHERE state = 'open' AND created_at <= ? ORDER BY created_at LIMIT ?", now - this.ttlMs() - SWEEP_GRACE_MS, SWEEP_BATCH)
      .toArray();
    const answers = await Promise.allSettled(stale.map((r) => this.askTask(r.task_id)));
    const out = { settled: 0, released: 0, kept: 0, failed: 0, more: stale.length === SWEEP_BATCH };
    for (const [i, answer] of answers.entries()) {
      const r = stale[i]!;
      if (answer.status === "rejected") {
        console.warn(`ledger sweep: task ${r.task_id} did not answer; its reservation waits for the next sweep`, String(answer.reason));
        out.failed++;
        continue;
      }
      const action = sweepAction(answer.value, r.amount_micros);
      if (action.kind === "settle") out.settled += this.settle(r.task_id, action.chargeMicros, now).settled ? 1 : 0;
      // Only a task that does not exist (never reached RunAPI) frees its Idempotency-Key; a retry of an accepted one must replay.
      else if (action.kind === "release") out.released += this.release(r.task_id, now, action.reason, { forgetIdempotency: answer.value === null }).released ? 1 : 0;
      else {
        // Unfinished past its lifetime: make sure its own alarm runs (it polls one last time, then expires and releases).
        await this.wakeTask(r.task_id).catch((err: unknown) => console.warn(`ledger sweep: could not wake task ${r.task_id}`, String(err)));
        out.kept++;
      }
    }
    return out;
  }

  /** The sweep, on the wall clock; reschedules itself while reservations remain open. */
  override async alarm(): Promise<void> {
    const { more } = await this.sweep(Date.now());
    const oldest = this.sql.exec<{ t: number | null }>("SELECT MIN(created_at) AS t FROM reservations WHERE state = 'open'").one().t;
    const next = nextSweepAt(oldest, this.ttlMs(), more, Date.now());
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }

  private reserveNow(req: ReserveRequest): ReserveResult {
    assertMicros("amountMicros", req.amountMicros, { nonNegative: true });
    assertBudgets(req.budgets);
    const existing = this.reservation(req.taskId);
    if (existing) {
      // A retried RPC for a reservation already held: answer it again, hold nothing more.
      if (existing.state === "open") return { ok: true, budgets: this.usage(req.now, req.budgets) };
      throw new Error(`task ${req.taskId} already had a reservation (${existing.state})`);
    }
    if (this.sql.exec("SELECT 1 FROM suspension").toArray().length) return { ok: false, code: "tenant_disabled" };
    if (this.sql.exec("SELECT 1 FROM revoked_keys WHERE key_id = ?", req.keyId).toArray().length) return { ok: false, code: "key_revoked" };
    if (req.idempotency) {
      const row = this.sql.exec<IdempotencyRecord>("SELECT body_hash, task_id, created_at FROM idempotency WHERE key = ?", req.idempotency.key).toArray()[0];
      const seen = idempotencyDecision(row ?? null, req.idempotency.bodyHash, req.now);
      if (seen.kind === "replay") return { ok: false, code: "idempotent_replay", taskId: seen.taskId };
      if (seen.kind === "conflict") return { ok: false, code: "idempotency_conflict" };
    }
    const rpmRow = this.sql.exec<RpmWindow>("SELECT window_start, count FROM rpm WHERE key_id = ?", req.keyId).toArray()[0];
    const rpm = rpmDecision(rpmRow ?? null, req.requestsPerMinute, req.now);
    if (!rpm.ok) return { ok: false, code: "rate_limited", limit: "requests_per_minute", retryAfterSeconds: rpm.retryAfterSeconds };
    const openTasks = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM reservations WHERE state = 'open'").one().n;
    if (!concurrencyFits(openTasks, req.maxConcurrentTasks)) {
      return { ok: false, code: "rate_limited", limit: "max_concurrent_tasks", retryAfterSeconds: CONCURRENCY_RETRY_AFTER_SECONDS };
    }
    const exceeded = firstExceeded(req.budgets, (b) => this.totals(b), req.amountMicros, req.now);
    if (exceeded) return { ok: false, code: "budget_exceeded", scope: exceeded };

    const buckets = reservationBuckets(req);
    for (const b of buckets) this.addToBucket(b, 0, req.amountMicros);
    this.sql.exec(
      "INSERT INTO reservations (task_id, key_id, end_user, model, amount_micros, buckets, state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?)",
      req.taskId, req.keyId, req.endUser, req.model, req.amountMicros, JSON.stringify(buckets), req.now,
    );
    this.append(req.now, "reserve", req, req.amountMicros, 0, null);
    const task = "INSERT INTO tasks (task_id, key_id, end_user, model, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING";
    this.sql.exec(task, req.taskId, req.keyId, req.endUser, req.model, req.now, req.now);
    this.sql.exec(
      "INSERT INTO rpm (key_id, window_start, count) VALUES (?, ?, ?) ON CONFLICT (key_id) DO UPDATE SET window_start = excluded.window_start, count = excluded.count",
      req.keyId, rpm.next.window_start, rpm.next.count,
    );
    const idem = req.idempotency;
    if (idem) this.sql.exec("INSERT OR REPLACE INTO idempotency (key, body_hash, task_id, created_at) VALUES (?, ?, ?, ?)", idem.key, idem.bodyHash, req.taskId, req.now);
    return { ok: true, budgets: this.usage(req.now, req.budgets) };
  }

  /** Settles or releases an open reservation in the buckets it was made in (even after a period rollover). */
  private close(r: ReservationRow, state: "settled" | "released", charge: number, now: number, reason: string | null): void {
    for (const b of parseBuckets(r.buckets)) this.addToBucket(b, charge, -r.amount_micros);
    this.sql.exec("UPDATE reservations SET state = ?, charged_micros = ?, closed_at = ? WHERE task_id = ?", state, charge, now, r.task_id);
    const who = { taskId: r.task_id, keyId: r.key_id, endUser: r.end_user, model: r.model };
    this.append(now, state === "settled" ? "settle" : "release", who, charge, r.amount_micros, reason, r.created_at);
  }

  private append(at: number, type: LedgerEntry["type"], who: Who | null, amount: number, reserved: number, reason: string | null, bookedAt = at): number {
    return this.sql
      .exec<{ id: number }>(
        "INSERT INTO entries (at, type, task_id, key_id, end_user, model, amount_micros, reserved_micros, reason, booked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        at, type, who?.taskId ?? null, who?.keyId ?? null, who?.endUser ?? null, who?.model ?? null, amount, reserved, reason, bookedAt,
      )
      .one().id;
  }

  private addToBucket(b: BucketKey, spent: number, reserved: number): void {
    this.sql.exec(
      `INSERT INTO buckets (scope, subject, period, window_start, spent_micros, reserved_micros) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET spent_micros = spent_micros + excluded.spent_micros, reserved_micros = reserved_micros + excluded.reserved_micros`,
      b.scope, b.subject, b.period, b.window_start, spent, reserved,
    );
  }

  private totals(b: BucketKey): BucketTotals {
    const sql = "SELECT spent_micros, reserved_micros FROM buckets WHERE scope = ? AND subject = ? AND period = ? AND window_start = ?";
    return this.sql.exec<BucketTotals>(sql, b.scope, b.subject, b.period, b.window_start).toArray()[0] ?? { spent_micros: 0, reserved_micros: 0 };
  }

  private reservation(taskId: string): ReservationRow | undefined {
    return this.sql.exec<ReservationRow>("SELECT * FROM reservations WHERE task_id = ?", taskId).toArray()[0];
  }

  /** The task's answer; a thrown error (or a malformed answer) means "ask again later", never "no such task". */
  private async askTask(taskId: string): Promise<SettlementState | null> {
    const stub = this.env.TASKS.get(this.env.TASKS.idFromName(taskId)) as unknown as TaskSettlementSource;
    return parseSettlementState(await stub.settlementState());
  }

  private async wakeTask(taskId: string): Promise<void> {
    const stub = this.env.TASKS.get(this.env.TASKS.idFromName(taskId)) as unknown as { wake(): Promise<boolean> };
    await stub.wake();
  }

  private ttlMs(): number {
    try {
      return loadConfig(this.env).taskTtlMs;
    } catch {
      return 3_600_000; // TASK_TTL_SECONDS' default: a missing secret elsewhere must not stop reconciliation
    }
  }
}

function parseBuckets(json: string): BucketKey[] {
  return JSON.parse(json) as BucketKey[];
}
