import { DurableObject } from "cloudflare:workers";
import type { ReserveRequest, ScopeBudget, ScopeState } from "../domain/ledger";
import type { AuditResult } from "../domain/ledger-audit";
import { DERIVED_REPLAY_MIN_AGE_MS, type TaskPage } from "../domain/ledger-limits";
import {
  applyObservation,
  markDequeued,
  markThrottled,
  newTaskRecord,
  overageNote,
  taskView,
  type TaskChange,
  type TaskRecord,
  type TaskTiming,
  type TaskView,
} from "../domain/task-record";
import { isTerminal } from "../domain/task-state";
import { canView, type TaskViewer } from "../domain/tenant";
import { loadConfig, type Bindings } from "../env";
import { log } from "../lib/log";
import { flushSoon, metrics } from "../lib/metrics";
import { withUpstreamMeter } from "../lib/upstream-meter";
import { archiveUsage, tallyStored, type VideoStorage } from "../archive/tally";
import { awaitingArchive, publicTaskView } from "../archive/view";
import { HOLD_MAX_MS, HoldDesk, type Held, type HoldClose, type HoldRefs, type HoldRequest, type HoldResult } from "./holds";
import { benchHook, type BenchOp } from "./bench-hooks";
import { LedgerHistory } from "./history";
import type { EntryQuery } from "./ledger-entries";
import { LedgerStore } from "./ledger-store";
import { migrate } from "./schema";
import { type StreamRefusal, TaskEvents } from "./task-events";
import { TaskStore } from "./task-store";
import { TenantInsights } from "./tenant-insights";
import { TaskWork } from "./task-work";
import { UploadOwners, type UploadAdmission, type UploadAdmitResult } from "./upload-owners";
import type { UploadOwner } from "../domain/uploads";
import { AlarmSchedule, SubmissionWaiters } from "./alarm-schedule";
import { AlertOutbox, deliverDueAlerts } from "./alerts";
import { TaskQueue } from "./task-queue";
import { TenantCapacity } from "./tenant-capacity";
import { type Changed, type CreateTaskRequest, type CreateTaskResult, LATE_CALL_MS, type Submission } from "./tenant-api";

export type { LedgerEntry, ReserveRequest, ReserveResult, Scope, ScopeBudget, ScopeState } from "../domain/ledger";
export type { AuditResult } from "../domain/ledger-audit";
export type { TaskPage } from "../domain/ledger-limits";
export type { CreateTaskRequest, CreateTaskResult, Submission } from "./tenant-api";
export type { StreamRefusal } from "./task-events";
export type { UploadAdmission, UploadAdmitResult } from "./upload-owners";
export type { HoldClose, HoldRequest, HoldResult } from "./holds";
export { HOLD_MAX_MS } from "./holds";

/** How long a replay waits for the first request's outcome before answering 409 (retry). */
const REPLAY_WAIT_MS = 2_000;
/** Tasks whose work an alarm runs at once; more are picked up by the next alarm, at once. */
const WORK_BATCH = 25;
/**
 * Whether a create sent without an Idempotency-Key repeats one whose client was never told how it ended (the
 * Worker's answers were lost, SPEC §13): then it gets that task, never a second one.
 */
function retriesUnreported(earlier: TaskRecord | undefined, now: number): boolean {
  return earlier !== undefined && !earlier.reported && now - earlier.created_at >= DERIVED_REPLAY_MIN_AGE_MS;
}

/** After a task's work threw, its next try. */
const WORK_RETRY_MS = 5_000;

/**
 * One tenant's object, the single owner of its money and its tasks (SPEC §5). Creates come gathered,
 * many per call and commit; each is one transaction: limits, budgets, idempotency, reservation, task row.
 * RunAPI's callbacks wake a row; one alarm over `next_due_at` runs what is due (re-sends, polls, expiry,
 * webhooks), and a task's terminal state, settlement and ledger entry are written in one transaction.
 */
export class TenantLedger extends DurableObject<Bindings> {
  /** The object's clock; tests move it instead of rewriting storage. */
  clock: () => number = () => Date.now();
  private readonly ledger: LedgerStore;
  private readonly holds: HoldDesk;
  private readonly history: LedgerHistory;
  private readonly tasks: TaskStore;
  private readonly streams = new TaskEvents(() => this.clock());
  private readonly work: TaskWork;
  private readonly alerts: AlertOutbox;
  private readonly waiters = new SubmissionWaiters();
  private readonly alarm_: AlarmSchedule;
  private readonly insights: TenantInsights;
  private readonly uploads: UploadOwners;
  private readonly capacity: TenantCapacity;

  constructor(ctx: DurableObjectState, env: Bindings) {
    // RunAPI calls the object makes (polls, re-sends, downloads) are timed and counted like the Worker's.
    super(ctx, withUpstreamMeter(env));
    this.insights = new TenantInsights(ctx.storage.sql);
    this.ledger = new LedgerStore(ctx.storage.sql, () => this.clock());
    this.uploads = new UploadOwners(ctx.storage.sql);
    this.tasks = new TaskStore(ctx.storage.sql, () => this.timing());
    this.holds = new HoldDesk(
      ctx.storage,
      this.ledger,
      this.tasks,
      () => this.clock(),
      async (reqs, holdUntil, alerted) => {
        for (const req of reqs) metrics.create({ service: "chat", model: req.model, tenantId: req.budgets.find((b) => b.scope === "tenant")?.subject ?? "" });
        flushSoon(this.env, this.ctx);
        // Budget alerts these holds set off are due now: the alarm delivers them.
        await this.alarm_.atMost(Math.min(holdUntil, (alerted && this.alerts.nextDue()) || Number.POSITIVE_INFINITY));
      },
    );
    this.history = new LedgerHistory(ctx.storage, this.ledger, env.HISTORY, `ledger/${ctx.id.toString()}`, () => loadConfig(this.env).ledgerHotMs);
    this.alerts = new AlertOutbox(ctx.storage.sql);
    this.alarm_ = new AlarmSchedule(ctx.storage);
    this.capacity = new TenantCapacity(this.env, new TaskQueue(ctx.storage.sql), {
      now: () => this.clock(),
      start: (ids) => this.startQueued(ids),
      wakeAt: (at) => this.alarm_.atMost(at),
    });
    this.work = new TaskWork(this.env, {
      get: (id) => this.tasks.get(id),
      update: (id, change) => this.update(id, change),
      timing: () => this.timing(),
      now: () => this.clock(),
      fileStored: (taskId, f) => tallyStored(ctx.storage.sql, { taskId, index: f.index, bytes: f.bytes, storedAt: f.storedAt }),
      throttled: () => void this.capacity.throttled(),
    });
    void ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage);
      this.history.load();
      this.capacity.load();
      await this.alarm_.load();
    });
  }

  /** One create (see `createTasks`); a replay of a create still with RunAPI waits briefly for its outcome, usually a moment away. */
  async createTask(req: CreateTaskRequest): Promise<CreateTaskResult> {
    const result = (await this.createTasks([req]))[0]!;
    if (result.ok || result.code !== "idempotency_in_progress" || !result.taskId) return result;
    return this.waiters.wait(result.taskId, REPLAY_WAIT_MS).then(() => this.replay(result.taskId!));
  }

  /**
   * Creates gathered by the Worker, in order, each reserved and written in its own transaction, all in one commit; the
   * callers then call RunAPI. A call that arrives too late holds none: its senders may have withdrawn them (real time).
   * RunAPI's ids for earlier creates ride along (`submitted`) and are recorded first, late or not.
   */
  async createTasks(reqs: CreateTaskRequest[], sentAt?: number, accepted: Submission[] = []): Promise<CreateTaskResult[]> {
    // A record that cannot be written must not fail the creates it rode with: the alarm re-sends its create and RunAPI answers with the id.
    if (accepted.length)
      await this.submitted(accepted).catch((err: unknown) =>
        log.error("record_submission_failed", { tasks: accepted.length, error: err instanceof Error ? err.name : "unknown" }),
      );
    const late = () => sentAt !== undefined && Date.now() - sentAt > LATE_CALL_MS;
    if (late()) return reqs.map(() => ({ ok: false, code: "failed" }));
    // RunAPI's capacity: a lease that admits them (a round trip only when there is none, or they do not fit and more may be free).
    const claim = reqs.find((r) => r.capacity)?.capacity;
    if (claim) await this.capacity.prepare(reqs.length, { tenantId: reqs[0]!.init.tenantId, weight: claim.weight, floor: claim.floor }, this.clock());
    if (late()) return reqs.map(() => ({ ok: false, code: "failed" }));
    let due = Number.POSITIVE_INFINITY;
    const results = reqs.map((req): CreateTaskResult => {
      try {
        const result = this.ctx.storage.transactionSync(() => this.admitTask(req));
        if (result.ok) due = Math.min(due, req.init.now + this.timing().longestCreateMs);
        if (result.ok) metrics.create({ service: req.init.request.service, model: req.model, tenantId: req.init.tenantId });
        return result;
      } catch (err) {
        log.error("create_failed", { task_id: req.taskId, error: err instanceof Error ? err.name : "unknown" });
        return { ok: false, code: "failed" };
      }
    });
    due = Math.min(due, this.alerts.nextDue() ?? Number.POSITIVE_INFINITY); // and the budget alerts these creates set off
    if (due !== Number.POSITIVE_INFINITY) await this.alarm_.atMost(due);
    flushSoon(this.env, this.ctx);
    if (claim) this.capacity.prepared(reqs.length);
    await this.capacity.settle(this.clock());
    return results;
  }

  /** RunAPI accepted these creates (gathered by the Worker, one call for many): remember their ids; polling starts after TASK_POLL_AFTER_SECONDS unless a callback comes first. */
  async submitted(accepted: Submission[]): Promise<void> {
    const pollAfter = loadConfig(this.env).taskPollAfterMs;
    const now = this.clock();
    const changed = this.ctx.storage.transactionSync(() =>
      accepted.map(({ taskId, upstreamId }) =>
        this.change(
          taskId,
          (t) => {
            t.reported = true;
            this.work.accepted(t, upstreamId, now + pollAfter);
          },
          now,
        ),
      ),
    );
    for (const out of changed) if (out) await this.announce(out, now);
    for (const { taskId } of accepted) this.waiters.settled(taskId);
  }

  /** The create's answer was lost: keep the money and the Idempotency-Key, and find out by re-sending it. */
  async submitUnknown(taskId: string): Promise<void> {
    await this.update(taskId, (t, now) => {
      t.reported = true;
      this.work.unknown(t, now);
    });
    this.waiters.settled(taskId);
  }

  /** RunAPI refused the create, or the Worker never sent it: failed, money released, Idempotency-Key freed. */
  async submitRefused(taskId: string, error: { code: string; message: string }): Promise<void> {
    await this.update(taskId, (t) => {
      t.reported = true;
      if (t.submit !== "submitting" || isTerminal(t.status)) return; // re-sent by the alarm since, or already ended
      t.notify_url = null; // the client hears of it in the response; no webhook for a create that never began
      return { status: "failed", source: "submit", error };
    });
    this.waiters.settled(taskId);
    await this.capacity.settle(this.clock());
  }

  /**
   * RunAPI answered the create with 429: it made no task, and its capacity is lower than the coordinator thought (it
   * learns so). A create that may wait (`keep`) stays held and is sent again after `Retry-After`; another is refused.
   */
  async submitThrottled(taskId: string, retryAfterSeconds: number, keep: boolean, message: string): Promise<"retrying" | "failed"> {
    await this.capacity.throttled();
    if (!keep) {
      await this.submitRefused(taskId, { code: "rate_limited", message });
      return "failed";
    }
    await this.update(taskId, (t, now) => markThrottled(t, now, retryAfterSeconds * 1000));
    this.waiters.settled(taskId);
    return "retrying";
  }

  /** The coordinator of RunAPI's capacity asks for a report: capacity freed for this tenant, or others wait for what it lends. */
  capacityNudge(): void {
    this.capacity.nudged();
  }

  /** The task as `viewer` may see it; null for an unknown task, someone else's, or (like RunAPI) one asked for at another action's path. */
  async readTask(taskId: string, viewer: TaskViewer, at?: { service: string; action: string }): Promise<TaskView | null> {
    // A task that moved out with the history (LEDGER_HOT_DAYS) costs one R2 read.
    const task = this.tasks.get(taskId) ?? (await this.history.task(taskId));
    if (!task || !canView(viewer, task) || (at && (task.service !== at.service || task.action !== at.action))) return null;
    return this.publicView(task, viewer.keyId === undefined);
  }

  /** The tenant's archived videos at `now` (those within retention). */
  videoStorage(now: number, retentionMs: number): VideoStorage {
    return archiveUsage(this.ctx.storage.sql, now, retentionMs);
  }

  /** The key that created a task, or null: archive links of files stored before their objects named it check it (SPEC §13). */
  taskKeyId(taskId: string): string | null {
    return this.tasks.get(taskId)?.key_id ?? null;
  }

  /**
   * Server-sent events of a task's state: the current state, then every change, ending after a terminal state. Null when
   * `viewer` may not see it; a refusal when the task or the tenant has as many open streams as SSE_MAX_STREAMS_* allow.
   */
  async events(taskId: string, viewer: TaskViewer): Promise<ReadableStream<Uint8Array> | StreamRefusal | null> {
    const task = this.tasks.get(taskId);
    if (!task || !canView(viewer, task)) return null;
    // A completed task whose videos are still being copied: the stream waits for the event with the archived links.
    const hold = this.awaitingArchive(task, this.clock());
    const { sseMaxStreamsPerTask: perTask, sseMaxStreamsPerTenant: perTenant } = loadConfig(this.env);
    const view = await this.publicView(task, viewer.keyId === undefined);
    return this.streams.open(view, isTerminal(task.status) && !hold, { hold, limits: { perTask, perTenant } });
  }

  /** The tenant's tasks, newest first, optionally of one status, key or end user. */
  listTasks(opts: { status?: string; limit: number; cursor?: string; keyId?: string; endUser?: string | null }): TaskPage {
    return this.tasks.list(opts);
  }

  /**
   * RunAPI's callback, a wake-up hint only: the status is checked with a GET (at most one per few seconds)
   * before anything changes. `hint`, the id the callback named, is used only when the create's own answer
   * was lost, once a GET confirms it. False for an unknown task.
   */
  async wake(taskId: string, hint?: string): Promise<boolean> {
    const found = (await this.update(taskId, (t) => this.work.wake(t, hint))) !== undefined;
    flushSoon(this.env, this.ctx);
    return found;
  }

  /**
   * Holds money for one request that is not a task (a chat completion, a synchronous action); settle or release it when
   * the request ends. `refs` names earlier tasks of the caller's the request points at: answered as RunAPI's ids.
   */
  async reserve(req: ReserveRequest, refs?: HoldRefs): Promise<Held> {
    return this.holds.reserveOne(req, refs);
  }

  /** Holds gathered by the Worker (chats of one tenant) and closings of ended ones, each its own transaction, all in one commit; a call delivered too late holds none. */
  reserveMany(items: HoldRequest[], sentAt?: number, closes?: HoldClose[]): Promise<HoldResult[]> {
    return this.holds.reserveMany(items, sentAt, closes);
  }

  /**
   * Admits one call of RunAPI's upload endpoints (SPEC §12) in one transaction: the upload it names must be the
   * caller's (else `not_found`), limits and refusals apply, a priced call holds its price (settle or release it after).
   */
  async admitUpload(req: UploadAdmission): Promise<UploadAdmitResult> {
    const now = this.clock();
    const holdUntil = now + HOLD_MAX_MS;
    const result = this.ctx.storage.transactionSync(() => this.uploads.admit(this.ledger, req, now, holdUntil));
    if (result.ok && req.amountMicros > 0) await this.alarm_.atMost(Math.min(holdUntil, this.alerts.nextDue() ?? Number.POSITIVE_INFINITY));
    return result;
  }

  /** Remembers who made an upload RunAPI just opened (a signed id, an upload id): only they may go on with it. */
  recordUpload(owner: UploadOwner): void {
    this.uploads.record(owner, this.clock());
  }

  /** Moves a hold to spent at the actual charge (RunAPI's cost behind it when known), exactly once; later calls return the recorded charge. */
  settle(holdId: string, chargeMicros: number, now: number, note: string | null = null, costMicros?: number): { settled: boolean; charged_micros: number } {
    return this.holds.settle(holdId, chargeMicros, now, note, costMicros);
  }

  /** Frees a hold without charge, exactly once. */
  release(holdId: string, now: number, reason: string): { released: boolean } {
    return this.holds.release(holdId, now, reason);
  }

  /** Settles or releases holds gathered by the Worker, each in its own transaction, all in one commit. */
  closeHolds(items: HoldClose[]): boolean[] {
    return this.holds.close(items);
  }

  /** An operator's credit (positive: lowers the tenant scope's spent in every period's current window) or debit (negative). */
  adjust(amountMicros: number, reason: string, now: number, budgets?: ScopeBudget[]): { entry_id: number; budgets: ScopeState[] } {
    return this.ctx.storage.transactionSync(() => {
      const entryId = this.ledger.adjust(amountMicros, reason, now);
      return { entry_id: entryId, budgets: budgets ? this.ledger.usage(now, budgets) : [] };
    });
  }

  /** Every budget's state in its window at `now`. */
  usage(now: number, budgets: ScopeBudget[]): ScopeState[] {
    return this.ledger.usage(now, budgets);
  }

  /**
   * Ledger entries in append order, one page at a time (default 1000, at most 10 000). `from` ≤ t < `to`
   * filters on `at`, or on `booked_at` (the budget window an entry counts in) when `by` says so;
   * `afterId` is the previous page's `next_after_id`.
   */
  entries(opts: EntryQuery) {
    return this.history.entries(opts);
  }

  /** Charged and RunAPI's cost per model over settled entries in `from` ≤ at < `to` (`GET /admin/v1/margins`). */
  margins(from: number, to: number) {
    return this.history.margins(from, to);
  }

  /** Refuses every reservation with this key from `at` on (now: revocation; later: the end of a rotation's overlap), whatever KV still says. */
  revokeKey(keyId: string, at: number): void {
    this.ledger.revoke(keyId, at);
  }

  /** Use per key or per end user in a window, biggest spenders first (the operator's console). */
  usageBy(opts: { by: "key" | "end_user"; from: number; to: number; limit: number }) {
    return this.insights.usageBy(opts);
  }

  /** Failing or failed webhook deliveries and video copies, and failing budget alerts (the operator's console). */
  failures(limit: number) {
    return this.insights.failures(limit);
  }

  /** Tasks created per UTC day for `days` days from `from` (chat completions are not tasks). */
  tasksPerDay(from: number, days: number): number[] {
    return this.insights.tasksPerDay(from, days);
  }

  /** The tenant's budget states and unfinished tasks, for a metrics scrape. */
  metricsState(now: number, budgets: ScopeBudget[]): { budgets: ScopeState[]; unfinished_tasks: number } {
    return { budgets: this.ledger.usage(now, budgets), unfinished_tasks: this.insights.unfinishedTasks() };
  }

  /** Refuses (true) or allows again (false) every new reservation of the tenant, at once — KV follows later. */
  setSuspended(suspended: boolean, now: number): void {
    this.ledger.suspend(suspended, now);
  }

  /**
   * Audit for tests and operators: buckets equal what their entries add up to, reserved equals the open
   * reservations, and a task's reservation is open exactly while the task is unfinished.
   */
  totalsCheck(): AuditResult {
    const audit = this.ledger.audit();
    for (const m of this.tasks.reservationMismatches()) audit.mismatches.push(`task ${m.task_id} is ${m.status} but its reservation is ${m.state}`);
    return { ...audit, ok: audit.mismatches.length === 0 };
  }

  /** Runs the work that is due: task reconciliation, polls, expiry, webhooks; charges lost holds; forgets old keys. Safe to run twice. */
  override async alarm(): Promise<void> {
    this.alarm_.fired();
    const now = this.clock();
    const due = this.tasks.due(now, WORK_BATCH);
    await Promise.all(
      due.map((id) =>
        this.work.run(id, now).catch(async (err: unknown) => {
          log.warn("task_work_failed", { task_id: id, error: err instanceof Error ? err.name : "unknown" });
          const retryAt = this.clock() + WORK_RETRY_MS;
          this.ctx.storage.sql.exec("UPDATE tasks SET next_due_at = ? WHERE task_id = ?", retryAt, id);
          await this.alarm_.atMost(retryAt);
        }),
      ),
    );
    await deliverDueAlerts(this.env, this.alerts, now, this.clock);
    // The lease's heartbeat and queue; whatever befalls it, the rest of the alarm runs and the next one is set.
    await this.capacity.tick(this.clock()).catch((err: unknown) => log.warn("capacity_tick_failed", { error: err instanceof Error ? err.name : "unknown" }));
    this.holds.chargeStale(now);
    this.ledger.forgetExpired(now);
    const more = await this.history.moveOut(now);
    const history = more ? this.clock() + 1_000 : this.history.nextMove();
    await this.alarm_.reset([this.tasks.nextDue(), this.ledger.nextHoldDeadline(), this.alerts.nextDue(), history, this.capacity.nextDue(this.clock())]);
    flushSoon(this.env, this.ctx);
  }

  /** `npm run bench`'s hooks (see bench-hooks.ts); refused unless the deployment sets BENCH_HOOKS=true. */
  async bench(op: BenchOp): Promise<number | { total: number; completions: number[] }> {
    if (this.env.BENCH_HOOKS !== "true") throw new Error("bench hooks are off (BENCH_HOOKS)");
    return benchHook(this.ctx.storage, op, () => this.alarm(), this.clock());
  }

  /** Applies a change to a task in one transaction (its settlement too, when it ends), tells listeners, and keeps the alarm in time. */
  private async update(taskId: string, change: TaskChange): Promise<TaskRecord | undefined> {
    const now = this.clock();
    const out = this.ctx.storage.transactionSync(() => this.change(taskId, change, now));
    if (out) this.capacity.moved(out.from, out.task, now);
    if (out) await this.announce(out, now);
    return out?.task;
  }

  /** Starts queued tasks whose turn came (SPEC §14): `pending`, to be sent by the alarm at once. */
  private async startQueued(ids: string[]): Promise<void> {
    const now = this.clock();
    const outs = this.ctx.storage.transactionSync(() => ids.map((id) => this.change(id, (t, at) => markDequeued(t, at), now)));
    for (const out of outs) if (out) this.capacity.moved(out.from, out.task, now);
    for (const out of outs) if (out) await this.announce(out, now);
  }

  /** A change to a task and, when it ends, its settlement; call inside a transaction, then `announce`. */
  private change(taskId: string, change: TaskChange, now: number): Changed | undefined {
    const task = this.tasks.get(taskId);
    if (!task) return undefined;
    const from = task.status;
    const observation = change(task, now);
    const moved = observation ? applyObservation(task, observation, now) : false;
    if (moved && isTerminal(task.status)) this.settleTask(task, now);
    return { task, from, moved, due: this.tasks.save(task) };
  }

  /** Tells a change's listeners and keeps the alarm in time for its next work. */
  private async announce(out: Changed, now: number): Promise<void> {
    // Like the webhook, the completed event waits (bounded) for the videos' copies, so it carries the archived links.
    const completedNow = out.task.status === "completed" && !this.awaitingArchive(out.task, now);
    const publish = out.moved ? out.task.status !== "completed" || completedNow : completedNow && this.streams.has(out.task.id);
    if (publish) this.streams.publish(await this.publicView(out.task, true), isTerminal(out.task.status));
    if (out.due !== null) await this.alarm_.atMost(out.due);
  }

  private publicView(task: TaskRecord, backend: boolean): Promise<TaskView> {
    return publicTaskView(task, backend, loadConfig(this.env), this.clock());
  }

  private awaitingArchive(task: TaskRecord, now: number): boolean {
    return awaitingArchive(Boolean(this.env.VIDEOS), task, now);
  }

  /** Settles (completed) or releases (failed) a finished task's reservation, inside the transaction that finished it. */
  private settleTask(task: TaskRecord, now: number): void {
    if (task.status === "completed") {
      this.ledger.close(task.id, "settled", task.charge_micros ?? task.estimate_micros, now, overageNote(task), task.cost_micros ?? undefined);
      return;
    }
    this.ledger.close(task.id, "released", 0, now, `task failed: ${task.error?.code ?? "failed"}`);
    // A task RunAPI never accepted frees its Idempotency-Key, so the client can retry it.
    if (task.submit !== "accepted") this.ledger.forgetIdempotency(task.id, task.idempotency_key);
  }

  /** One create's admission, reservation and task row; call inside a transaction. */
  private admitTask(req: CreateTaskRequest): CreateTaskResult {
    // A retried call for a task already held: answer it again, hold nothing more.
    if (this.ledger.reservation(req.taskId)?.state === "open") {
      const task = this.tasks.get(req.taskId);
      return { ok: true, budgets: this.ledger.usage(req.now, req.budgets), upstreamRefs: task?.upstream_refs ?? {}, queued: task?.status === "queued" };
    }
    const refs = this.tasks.references(req.init.references, req.viewer);
    if (!refs.ok) return refs;
    let refused = this.ledger.admit(req, "task");
    if (refused?.code === "idempotent_replay") {
      if (!req.idempotency?.derived || retriesUnreported(this.tasks.get(refused.taskId), req.now)) return this.replay(refused.taskId);
      // The derived key names a create its client heard about, or one still in flight: this one is a request of its own.
      refused = this.ledger.admit({ ...req, idempotency: null }, "task");
    }
    if (refused?.code === "idempotent_replay") return this.replay(refused.taskId); // not with idempotency null; for the types
    if (refused) return refused;
    // Within the tenant's lease on RunAPI's capacity it goes now; beyond it, it waits in the queue (held) or is refused.
    const decision = req.capacity ? this.capacity.decide(req.capacity.queue, this.clock()) : ({ kind: "submit" } as const);
    if (decision.kind === "refuse") {
      this.capacity.refused(this.clock());
      return { ok: false, code: "rate_limited", limit: "upstream_capacity", retryAfterSeconds: this.capacity.retryAfterSeconds(this.clock()) };
    }
    const budgets = this.ledger.hold(req, "task");
    const task = newTaskRecord(req.init, refs.upstreamRefs, decision.kind === "queue");
    if (req.idempotency) task.idempotency_key = req.idempotency.key;
    this.tasks.insert(task);
    if (req.capacity) this.capacity.admitted(decision, this.clock());
    return { ok: true, budgets, upstreamRefs: refs.upstreamRefs, ...(decision.kind === "queue" ? { queued: true } : {}) };
  }

  private replay(taskId: string): CreateTaskResult {
    const task = this.tasks.get(taskId);
    // While the first create is still with RunAPI, a duplicate waits: answering it now could promise a task that fails.
    if (!task || (task.submit === "submitting" && !isTerminal(task.status))) return { ok: false, code: "idempotency_in_progress", taskId };
    // RunAPI refused the first request: its key is free again, and a retry makes a new attempt (never a 200 for a failure).
    if (isTerminal(task.status) && task.submit !== "accepted") return { ok: false, code: "idempotency_in_progress" };
    return { ok: false, code: "idempotent_replay", view: taskView(task), estimate_micros: task.estimate_micros };
  }

  private timing(): TaskTiming {
    const config = loadConfig(this.env);
    // The Worker's first create: three attempts, each up to the upstream timeout, plus backoff and slack.
    return { ttlMs: config.taskTtlMs, longestCreateMs: 3 * config.upstreamTimeoutMs + 3 * config.upstreamRetryBaseMs + 5_000 };
  }
}
