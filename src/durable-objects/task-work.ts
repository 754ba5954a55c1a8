import { centsToMicros } from "../domain/money";
import {
  createBody,
  expiryDeadline,
  markAccepted,
  markPolled,
  MAX_THROTTLES,
  markThrottled,
  markUnknown,
  type Observation,
  type TaskChange,
  type TaskRecord,
  type TaskTiming,
} from "../domain/task-record";
import { isTerminal } from "../domain/task-state";
import { loadConfig, type Bindings } from "../env";
import { AppError } from "../lib/errors";
import { log } from "../lib/log";
import { isLostAnswer, RunApiClient, type UpstreamTask } from "../upstream/runapi";
import { deliverStartedNotice, deliverWebhook } from "./task-webhook";
import { applyAttempts, copyDueFiles, sourceFetcher, type StoredFile } from "../archive/run";
import { sourcePolicy } from "../archive/source";
import { publicTaskView } from "../archive/view";
import { newArchive, taskOutputs, webhookReleaseAt } from "../domain/media-archive";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the work needs of the tenant's object: its task rows, its one way to change them, its timing and clock. */
export interface TaskHost {
  get(taskId: string): TaskRecord | undefined;
  update(taskId: string, change: TaskChange): Promise<TaskRecord | undefined>;
  timing(): TaskTiming;
  now(): number;
  /** A file of the task landed in the archive (the tenant's stored-bytes tally). */
  fileStored(taskId: string, file: StoredFile): void;
  /** RunAPI answered a create with 429: its capacity is lower than the coordinator thought. */
  throttled(): void;
}

/**
 * The outside work of a task, run by the tenant object's alarm: finding out what became of a create
 * whose answer was lost (re-send it with the same Idempotency-Key, or confirm the id a callback named),
 * polling RunAPI, giving up at the deadline, and delivering the tenant's webhook. Each step calls out,
 * then records what it learned through the host's `update`, which settles the money when a task ends.
 */
export class TaskWork {
  constructor(
    private readonly env: Bindings,
    private readonly host: TaskHost,
  ) {}

  /** Tasks whose files this instance is copying now (a second run leaves them to it). */
  private readonly archiving = new Set<string>();

  /** RunAPI gave its id for the task (first create, re-send, or a confirmed callback). */
  accepted(task: TaskRecord, upstreamId: string, nextPollAt: number): void {
    markAccepted(task, upstreamId, nextPollAt);
  }

  /** The create's answer was lost. */
  unknown(task: TaskRecord, now: number): void {
    markUnknown(task, now);
  }

  /** A callback arrived: check soon. */
  wake(task: TaskRecord, hint: string | undefined): void {
    if (isTerminal(task.status)) return;
    task.wake_requested = true;
    if (!task.upstream_id && hint && UUID.test(hint)) task.upstream_hint = hint;
  }

  /** Everything due for one task at `now`. Safe to run twice. */
  async run(taskId: string, now: number): Promise<void> {
    let task = this.host.get(taskId);
    if (!task) return;
    // A queued task waits for its turn (the tenant's lease starts it); only its deadline applies meanwhile.
    if (!isTerminal(task.status) && task.submit !== "accepted" && task.submit !== "queued") await this.reconcile(task, now);
    task = this.host.get(taskId)!;
    const deadline = expiryDeadline(task, this.host.timing());
    const pollDue = task.wake_requested || (task.next_poll_at ?? Number.POSITIVE_INFINITY) <= now || now >= deadline;
    if (!isTerminal(task.status) && task.upstream_id && pollDue) await this.poll(task);
    task = this.host.get(taskId)!;
    if (!isTerminal(task.status) && now >= expiryDeadline(task, this.host.timing())) {
      const seconds = Math.round(this.host.timing().ttlMs / 1000);
      const message =
        task.submit === "accepted"
          ? `RunAPI reported no terminal state within the task's lifetime (${seconds} s)`
          : task.submit === "queued"
            ? `The task waited in the queue for RunAPI's capacity beyond its lifetime (${seconds} s); it was never sent and nothing was charged`
            : "RunAPI could not be reached to confirm the task within its lifetime; nothing was charged";
      await this.host.update(taskId, () => ({ status: "failed", source: "ttl", error: { code: "task_expired", message } }));
    }
    await this.archive(taskId, now);
    task = this.host.get(taskId)!;
    if (task.started_notice?.state === "pending" && (task.started_notice.next_at ?? 0) <= now) await this.deliverStarted(task);
    task = this.host.get(taskId)!;
    if (task.webhook.state === "pending" && Math.max(task.webhook.next_at ?? 0, webhookReleaseAt(task.archive)) <= now) await this.deliver(task);
    else await this.host.update(taskId, () => undefined); // recompute when it is next due
  }

  /** Finds out what became of a create whose answer was lost: confirm a callback's id, else re-send the create when due. */
  private async reconcile(task: TaskRecord, now: number): Promise<void> {
    const client = this.client();
    const hint = task.upstream_hint;
    if (hint) {
      const upstream = await client.getTask(task.route.path, hint).catch(() => undefined);
      if (upstream) {
        await this.host.update(task.id, (t, at) => {
          markAccepted(t, hint, at);
          return observationOf(upstream, t);
        });
        return;
      }
      // RunAPI does not know that id: forget it. A fault: try again after the usual gap.
      if (upstream === null)
        await this.host.update(task.id, (t) => {
          t.upstream_hint = null;
        });
      else
        await this.host.update(task.id, (t, at) => {
          t.last_poll_at = at;
        });
    }
    const resendAt = task.submit === "submitting" ? task.created_at + this.host.timing().longestCreateMs : (task.next_submit_at ?? 0);
    if (now < resendAt) return;
    try {
      const body = { ...createBody(task), callback_url: task.callback_url };
      const { id } = await client.createTask(task.route.path, body, task.id);
      // Poll at once: a callback may have come and gone while the id was unknown.
      await this.host.update(task.id, (t, at) => markAccepted(t, id, at));
      if (task.submit === "sending") log.info("create_sent", { task_id: task.id, waited_ms: now - task.created_at });
      else log.info("create_reconciled", { task_id: task.id, attempts: task.submit_attempts + 1 });
    } catch (err) {
      // RunAPI is at its capacity (429): it made nothing. The create is sent again after Retry-After, money still held.
      if (err instanceof AppError && err.code === "rate_limited" && err.details?.upstream_status === 429) {
        // Only a create's first 429 is news of RunAPI's limit: one create RunAPI keeps refusing (a limit of its own, a
        // model's) must not cut the limit again at every re-send, down to one task for everyone.
        if (!task.throttles) this.host.throttled();
        if ((task.throttles ?? 0) + 1 >= MAX_THROTTLES) {
          // A create RunAPI refuses again and again would hold one of its tenant's slots (and its money) until its TTL,
          // while the tenant's queue waits behind it: it is given up on.
          const message = `RunAPI answered this create 429 ${MAX_THROTTLES} times (it made nothing); it was given up on and nothing was charged`;
          await this.host.update(task.id, () => ({ status: "failed", source: "submit", error: { code: "rate_limited", message } }));
          return;
        }
        const retryAfterMs = Number(err.details.retry_after_seconds ?? 30) * 1000;
        await this.host.update(task.id, (t, at) => markThrottled(t, at, retryAfterMs));
        return;
      }
      // A lost or unreadable answer, or RunAPI failing (5xx), is not a definite "no such task" (SPEC §13): RunAPI
      // may have made it. The money stays held and the create is re-sent with backoff until an answer or the deadline.
      if (isLostAnswer(err)) {
        await this.host.update(task.id, (t, at) => markUnknown(t, at));
        return;
      }
      // A definite answer: RunAPI refused the create, so it never made the task.
      const error = err instanceof AppError ? { code: err.code, message: err.message } : { code: "upstream_error", message: "RunAPI refused the task" };
      await this.host.update(task.id, () => ({ status: "failed", source: "reconcile", error }));
    }
  }

  /** Asks RunAPI for the task's state; a transient fault only delays the next poll. */
  private async poll(task: TaskRecord): Promise<void> {
    const config = loadConfig(this.env);
    let observation: Observation | null = null;
    try {
      const upstream = await this.client().getTask(task.route.path, task.upstream_id!);
      observation = upstream
        ? observationOf(upstream, task)
        : { status: "failed", source: "poll", error: { code: "upstream_not_found", message: "RunAPI no longer knows this task" } };
    } catch (err) {
      log.warn("poll_failed", { task_id: task.id, error: err instanceof AppError ? err.code : "unknown" });
    }
    await this.host.update(task.id, (t, now) => {
      markPolled(t, now, config.taskPollIntervalMs);
      return observation;
    });
  }

  /** One delivery attempt to the tenant's webhook. */
  private async deliver(task: TaskRecord): Promise<void> {
    const tenant = await this.env.TENANTS.get<{ webhook_secret: string | null }>(`tenant:${task.tenant_id}`, "json");
    // The payload shows the archived links (when the copies landed), as a read of the task would.
    const view = await publicTaskView({ ...task, notify_url: null }, true, loadConfig(this.env), this.host.now());
    const outcome = await deliverWebhook(task, view, tenant?.webhook_secret ?? null, this.host.now());
    await this.host.update(task.id, (t) => {
      t.webhook = outcome;
    });
  }

  /** One attempt to tell the tenant's webhook that a queued task started (SPEC §14: `queued` → `pending`). */
  private async deliverStarted(task: TaskRecord): Promise<void> {
    const tenant = await this.env.TENANTS.get<{ webhook_secret: string | null }>(`tenant:${task.tenant_id}`, "json");
    const notice = await deliverStartedNotice(task, tenant?.webhook_secret ?? null, this.host.now());
    await this.host.update(task.id, (t) => {
      if (t.started_notice?.state === "pending") t.started_notice = notice;
    });
  }

  /**
   * Copies a completed task's due output files into R2 (SPEC §11, §12) and records the outcome: stored, retried
   * with backoff, or given up (RunAPI's link stays). The task stays completed throughout.
   */
  private async archive(taskId: string, now: number): Promise<void> {
    const bucket = this.env.VIDEOS;
    const task = this.host.get(taskId)!;
    if (!bucket || task.status !== "completed" || this.archiving.has(taskId)) return;
    if (!task.archive) {
      const outputs = taskOutputs(task);
      if (!outputs.length) return;
      await this.host.update(taskId, (t) => {
        t.archive ??= newArchive(outputs, new URL(t.callback_url).origin, now);
      });
    }
    const config = loadConfig(this.env);
    const deps = {
      bucket,
      fetcher: sourceFetcher(this.env.RUNAPI, config.runapiBaseUrl),
      retryBaseMs: config.videoCopyRetryBaseMs,
      policy: sourcePolicy(config),
    };
    this.archiving.add(taskId);
    const owner = { tenantId: task.tenant_id, keyId: task.key_id, taskId };
    const results = await copyDueFiles(deps, owner, this.host.get(taskId)!.archive!, now).finally(() => this.archiving.delete(taskId));
    if (!results.length) return;
    let stored: StoredFile[] = [];
    await this.host.update(taskId, (t, at) => {
      stored = applyAttempts(t.archive!, taskId, results, at, config.videoCopyRetryBaseMs);
    });
    for (const file of stored) this.host.fileStored(taskId, file);
  }

  private client(): RunApiClient {
    return new RunApiClient(loadConfig(this.env), this.env.RUNAPI);
  }
}

/** What a status answer means for the task, or null when it says nothing new (still pending). */
function observationOf(upstream: UpstreamTask, task: TaskRecord): Observation | null {
  if (upstream.status === "pending") return null;
  return {
    status: upstream.status,
    source: task.wake_requested ? "callback" : "poll",
    videos: upstream.videos,
    result: upstream.result,
    error: upstream.status === "failed" ? (upstream.error ?? { code: "generation_failed", message: "RunAPI reported the task failed" }) : undefined,
    costMicros: upstream.cost_cents === undefined ? undefined : centsToMicros(upstream.cost_cents),
  };
}
