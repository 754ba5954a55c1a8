import { DurableObject } from "cloudflare:workers";
import { loadConfig, type Bindings, type Config } from "../env";
import { upstreamBody, type Endpoint } from "../domain/hailuo";
import { centsToMicros, formatUsd } from "../domain/money";
import { applyObservation, newTaskRecord, taskView, type Observation, type TaskInit, type TaskRecord, type TaskView } from "../domain/task-record";
import { isTerminal, nextPollDelayMs, type TaskStatus } from "../domain/task-state";
import { canView, type TaskViewer } from "../domain/tenant";
import { AppError, type ErrorCode } from "../lib/errors";
import { RunApiClient } from "../upstream/runapi";
import { deliverWebhook } from "./task-webhook";
import { TaskEvents } from "./task-events";
import { applyAttempts, copyDueVideos, sourceFetcher } from "../archive/run";
import { newArchive, nextArchiveAt, webhookReleaseAt, type VideoArchive } from "../domain/video-archive";
import { publicVideos } from "../archive/view";

/** Why a submission failed, in a form that crosses the RPC boundary. */
export interface SubmitError {
  code: ErrorCode;
  message: string;
  details?: Record<string, string | number | boolean | null>;
  headers?: Record<string, string>;
}

const LEDGER_RETRY_MS = 5_000;
const RECORD = "task";
const ALARM_AT = "alarm_at";
/** The video archive's state (SPEC §11), and the origin the task was created on (its video links are signed for it). */
const ARCHIVE = "archive";
const ORIGIN = "origin";
/** Who is asking for the event stream (set by the route, which authenticated them). */
export const VIEWER_HEADER = "x-task-viewer";

/**
 * One video task: created before the upstream call, then the single source of truth
 * for its state. Callbacks only wake it; it confirms with RunAPI before money moves,
 * polls by alarm when no callback comes, settles or releases the reservation exactly once,
 * and delivers the terminal task to the tenant's webhook.
 */
export class VideoTask extends DurableObject<Bindings> {
  private readonly events = new TaskEvents();
  /** True while this instance waits for RunAPI to answer the create (lost with the instance, as the call is). */
  private submitting = false;
  /** True while this instance copies videos into R2 (a second alarm run leaves them to it). */
  private archiving = false;

  /** Stores the task, submits it to RunAPI and records the outcome; a failure releases the reservation. */
  async start(init: TaskInit): Promise<{ ok: true; view: TaskView } | { ok: false; error: SubmitError; view: TaskView }> {
    const existing = this.load();
    if (existing) return { ok: true, view: taskView(existing) };
    const config = loadConfig(this.env);
    const record = newTaskRecord(init);
    this.save(record);
    this.ctx.storage.kv.put(ORIGIN, new URL(init.callbackUrl).origin);
    // Armed before RunAPI is called: if this object dies mid-call, the alarm still expires the task and releases its money.
    await this.schedule(record);
    this.submitting = true;
    try {
      const body = { ...upstreamBody(init.request), callback_url: init.callbackUrl };
      const { id } = await this.client().createTask(init.endpoint, body, init.id).finally(() => (this.submitting = false));
      const task = this.mustLoad();
      task.upstream_id = id;
      task.next_poll_at = Date.now() + config.taskPollAfterMs;
      this.save(task);
      await this.schedule(task);
      return { ok: true, view: taskView(task) };
    } catch (err) {
      const error = toSubmitError(err);
      const task = this.mustLoad();
      applyObservation(task, { status: "failed", source: "submit", error: { code: error.code, message: error.message } }, Date.now());
      task.webhook = { state: "none", next_at: null, deliveries: [] }; // the client hears of it in the response
      this.save(task);
      await this.syncLedger({ forgetIdempotency: true });
      return { ok: false, error, view: taskView(this.mustLoad()) };
    }
  }

  /** The task as `viewer` may see it; null for an unknown task, someone else's, or (like RunAPI) one asked for on the other endpoint. */
  async read(viewer: TaskViewer, endpoint?: Endpoint): Promise<TaskView | null> {
    const task = this.load();
    return task && canView(viewer, task) && (!endpoint || task.endpoint === endpoint) ? this.view(task) : null;
  }

  /** For an idempotent replay: the task and its estimate once RunAPI has accepted it; null before that (or if it never will). */
  async submission(viewer: TaskViewer): Promise<{ view: TaskView; estimate_micros: number } | null> {
    const task = this.load();
    if (!task || !canView(viewer, task) || task.upstream_id === null) return null;
    return { view: taskView(task), estimate_micros: task.estimate_micros };
  }

  /** RunAPI's callback, a wake-up hint only: schedules an immediate status check. False for an unknown task. */
  async wake(): Promise<boolean> {
    const task = this.load();
    if (!task) return false;
    if (!isTerminal(task.status)) {
      task.wake_requested = true;
      this.save(task);
      await this.schedule(task);
    }
    return true;
  }

  /** What the ledger's sweep needs to reconcile a reservation; null when there is no such task. */
  async settlementState(): Promise<{ status: TaskStatus; charge_micros: number | null } | null> {
    const task = this.load();
    return task ? { status: task.status, charge_micros: task.charge_micros } : null;
  }

  /** `GET …/events`: server-sent events of the task's state, ending after a terminal state. */
  override async fetch(request: Request): Promise<Response> {
    const viewer = JSON.parse(request.headers.get(VIEWER_HEADER) ?? "null") as TaskViewer | null;
    const task = this.load();
    if (!task || !viewer || !canView(viewer, task)) return new Response(null, { status: 404 });
    return this.events.open(taskView(task), isTerminal(task.status));
  }

  /** Polls, expires, settles and delivers whatever is due. Safe to run twice. */
  override async alarm(): Promise<void> {
    const config = loadConfig(this.env);
    let task = this.load();
    if (!task) return;
    // An alarm runs because its time has come: never judge what is due by a clock earlier than that.
    const now = Math.max(Date.now(), this.ctx.storage.kv.get<number>(ALARM_AT) ?? 0);
    const deadline = expiryDeadline(task, config);
    if (!isTerminal(task.status) && task.upstream_id && (task.wake_requested || (task.next_poll_at ?? Infinity) <= now || now >= deadline)) {
      await this.poll(task.upstream_id, now >= deadline);
    } else if (!isTerminal(task.status) && now >= deadline) {
      if (this.submitting) {
        // This object's own create is still waiting for RunAPI: expiring now could orphan a task RunAPI accepts.
        this.ctx.storage.kv.put(ALARM_AT, Date.now() + LEDGER_RETRY_MS);
        await this.ctx.storage.setAlarm(Date.now() + LEDGER_RETRY_MS);
        return;
      }
      this.observe({ status: "expired", source: "ttl", error: { code: "expired", message: "The task was never submitted to RunAPI" } });
    }
    await this.syncLedger();
    await this.archiveVideos(now);
    task = this.mustLoad();
    // The webhook carries the archived links when the copies land within a bounded wait (README: Video archive).
    if (task.webhook.state === "pending" && Math.max(task.webhook.next_at ?? 0, webhookReleaseAt(this.archive())) <= now) {
      const tenant = await this.env.TENANTS.get<{ webhook_secret: string | null }>(`tenant:${task.tenant_id}`, "json");
      const outcome = await deliverWebhook({ ...task, videos: (await this.view(task)).videos ?? null }, tenant?.webhook_secret ?? null, Date.now());
      task = this.mustLoad();
      task.webhook = outcome;
      this.save(task);
    }
    await this.schedule(this.mustLoad());
  }

  /** Asks RunAPI for the task's state. At the deadline, a task that has not finished expires. */
  private async poll(upstreamId: string, atDeadline: boolean): Promise<void> {
    const config = loadConfig(this.env);
    const task = this.mustLoad();
    let observation: Observation | null = null;
    try {
      const upstream = await this.client().getTask(task.endpoint, upstreamId);
      if (!upstream) {
        observation = { status: "failed", source: "poll", error: { code: "upstream_not_found", message: "RunAPI no longer knows this task" } };
      } else if (upstream.status !== "pending") {
        observation = {
          status: upstream.status,
          source: task.wake_requested ? "callback" : "poll",
          videos: upstream.videos,
          error: upstream.status === "failed" ? (upstream.error ?? { code: "generation_failed", message: "RunAPI reported the task failed" }) : undefined,
          chargeMicros: upstream.cost_cents === undefined ? undefined : centsToMicros(upstream.cost_cents),
        };
      }
    } catch (err) {
      // Transient: only delays the next poll.
      console.warn(JSON.stringify({ level: "warn", task_id: task.id, poll_error: err instanceof AppError ? err.code : "unknown" }));
    }
    const fresh = this.mustLoad();
    fresh.polls += 1;
    fresh.wake_requested = false;
    fresh.next_poll_at = Date.now() + nextPollDelayMs(config.taskPollIntervalMs, fresh.polls - 1);
    this.save(fresh);
    if (observation) this.observe(observation);
    if (atDeadline && !isTerminal(this.mustLoad().status)) {
      this.observe({ status: "expired", source: "ttl", error: { code: "expired", message: `No terminal state from RunAPI within ${config.taskTtlMs / 1000} s` } });
    }
  }

  /** Applies a forward state change, tells SSE listeners, and reports it to the tenant's task index. */
  private observe(obs: Observation): void {
    const task = this.mustLoad();
    if (!applyObservation(task, obs, Date.now())) return;
    this.save(task);
    this.events.publish(taskView(task), isTerminal(task.status));
    // A terminal status reaches the index with the settlement (syncLedger, retried); others are a best-effort hint.
    if (!isTerminal(task.status)) this.ctx.waitUntil(this.ledger(task.tenant_id).setTaskStatus(task.id, task.status, task.updated_at).catch(() => undefined));
  }

  /** Settles (completed) or releases (failed, expired) the reservation once; retried by alarm until the ledger confirms. */
  private async syncLedger(opts: { forgetIdempotency?: boolean } = {}): Promise<void> {
    const task = this.mustLoad();
    if (task.ledger !== "pending") return;
    const ledger = this.ledger(task.tenant_id);
    const now = Date.now();
    try {
      if (task.status === "completed") await ledger.settle(task.id, task.charge_micros ?? task.estimate_micros, now, overageNote(task));
      // A task RunAPI never accepted frees its Idempotency-Key too, so the client can retry it.
      else await ledger.release(task.id, now, `task ${task.status}`, { forgetIdempotency: opts.forgetIdempotency ?? task.upstream_id === null });
      await ledger.setTaskStatus(task.id, task.status, now);
    } catch (err) {
      console.warn(JSON.stringify({ level: "warn", task_id: task.id, ledger_error: err instanceof Error ? err.name : "unknown" }));
      this.ctx.storage.kv.put(ALARM_AT, now + LEDGER_RETRY_MS);
      await this.ctx.storage.setAlarm(now + LEDGER_RETRY_MS);
      return;
    }
    const fresh = this.mustLoad();
    fresh.ledger = "done";
    this.save(fresh);
  }

  /** Sets the alarm for the earliest due work, or clears it when nothing is left. */
  private async schedule(task: TaskRecord): Promise<void> {
    const config = loadConfig(this.env);
    const times: number[] = [];
    if (!isTerminal(task.status)) {
      times.push(expiryDeadline(task, config));
      if (task.next_poll_at !== null) times.push(task.next_poll_at);
      if (task.wake_requested && task.upstream_id) times.push(Date.now());
    }
    if (task.ledger === "pending") times.push(Date.now() + LEDGER_RETRY_MS);
    if (task.webhook.state === "pending" && task.webhook.next_at !== null) times.push(Math.max(task.webhook.next_at, webhookReleaseAt(this.archive())));
    const archiveAt = nextArchiveAt(this.archive());
    if (archiveAt !== null) times.push(archiveAt);
    if (times.length) {
      const at = Math.min(...times);
      this.ctx.storage.kv.put(ALARM_AT, at);
      await this.ctx.storage.setAlarm(at);
    } else {
      await this.ctx.storage.deleteAlarm();
    }
  }

  /** The task as readers see it: archived videos point at the proxy's signed links, re-signed on every read. */
  private async view(task: TaskRecord): Promise<TaskView> {
    const view = taskView(task);
    const config = loadConfig(this.env);
    const signer = { secret: config.signingSecret, publicBaseUrl: config.publicBaseUrl, ttlSeconds: config.videoUrlTtlSeconds };
    const videos = await publicVideos(task.id, task.videos, this.archive(), signer, Date.now());
    if (videos) view.videos = videos;
    return view;
  }

  private archive(): VideoArchive | undefined {
    return this.ctx.storage.kv.get<VideoArchive>(ARCHIVE);
  }

  /** Starts the archive of a completed task's videos, copies what is due, and records the outcome (the task stays completed). */
  private async archiveVideos(now: number): Promise<void> {
    const task = this.mustLoad();
    const bucket = this.env.VIDEOS;
    if (!bucket || task.status !== "completed" || !task.videos?.length || this.archiving) return;
    const config = loadConfig(this.env);
    let archive = this.archive();
    if (!archive) {
      archive = newArchive(task.videos, this.ctx.storage.kv.get<string>(ORIGIN) ?? null, now);
      this.ctx.storage.kv.put(ARCHIVE, archive);
    }
    this.archiving = true;
    const deps = { bucket, fetcher: sourceFetcher(this.env.RUNAPI, config.runapiBaseUrl), retryBaseMs: config.videoCopyRetryBaseMs };
    const results = await copyDueVideos(deps, { tenantId: task.tenant_id, taskId: task.id }, archive, now).finally(() => (this.archiving = false));
    if (!results.length) return;
    const fresh = this.archive()!;
    const stored = applyAttempts(fresh, task.id, results, Date.now(), config.videoCopyRetryBaseMs);
    this.ctx.storage.kv.put(ARCHIVE, fresh);
    for (const v of stored) {
      await this.ledger(task.tenant_id).recordArchivedVideo(task.id, v.index, v.bytes, v.storedAt)
        .catch((err: unknown) => console.warn(JSON.stringify({ level: "warn", task_id: task.id, tally_error: err instanceof Error ? err.name : "unknown" })));
    }
  }

  private client(): RunApiClient {
    return new RunApiClient(loadConfig(this.env), this.env.RUNAPI);
  }

  private ledger(tenantId: string) {
    return this.env.LEDGER.get(this.env.LEDGER.idFromName(tenantId));
  }

  private load(): TaskRecord | undefined {
    return this.ctx.storage.kv.get<TaskRecord>(RECORD);
  }

  private mustLoad(): TaskRecord {
    const task = this.load();
    if (!task) throw new Error("task record missing");
    return task;
  }

  private save(task: TaskRecord): void {
    this.ctx.storage.kv.put(RECORD, task);
  }
}

/**
 * When a task with no terminal state expires: its TTL, but never while its create may still be
 * under way (three attempts, each up to the upstream timeout, plus backoff), so a create that
 * RunAPI accepts late is never orphaned by an expiry that already released its money.
 */
function expiryDeadline(task: TaskRecord, config: Config): number {
  const ttl = task.created_at + config.taskTtlMs;
  if (task.upstream_id !== null) return ttl;
  const longestCreate = 3 * config.upstreamTimeoutMs + 3 * config.upstreamRetryBaseMs + 5_000;
  return Math.max(ttl, task.created_at + longestCreate);
}

/** For the billing export: RunAPI reported more than the reservation, and the tenant was charged the reservation. */
function overageNote(task: TaskRecord): string | null {
  const reported = task.reported_cost_micros;
  return reported !== undefined && reported > task.estimate_micros
    ? `RunAPI reported ${formatUsd(reported)} USD; charged the ${formatUsd(task.estimate_micros)} USD reserved`
    : null;
}

function toSubmitError(err: unknown): SubmitError {
  if (err instanceof AppError) {
    const { retryable: _retryable, ...details } = err.details ?? {};
    return { code: err.code, message: err.message, details: details as SubmitError["details"], headers: err.headers };
  }
  console.error(JSON.stringify({ level: "error", submit_error: err instanceof Error ? err.name : "unknown" }));
  return { code: "upstream_error", message: "The request to RunAPI failed" };
}
