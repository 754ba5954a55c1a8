import type { CatalogRequest } from "../catalog/request";
import type { ScopeBudget, ScopeState } from "../domain/ledger";
import { microsToUsd, type Micros } from "../domain/money";
import { createBody, newTaskRecord, type TaskView, type UpstreamRoute } from "../domain/task-record";
import type { TaskViewer } from "../domain/tenant";
import { callbackToken } from "../domain/webhook-signing";
import type { Bindings, Config } from "../env";
import { AppError, invalidRequest } from "../lib/errors";
import type { Price } from "../lib/pricing";
import { log } from "../lib/log";
import { refusal } from "../lib/refusal";
import { ledgerStub } from "../lib/stubs";
import { isLostAnswer, RunApiClient } from "../upstream/runapi";
import type { CreateTaskRequest, CreateTaskResult, Submission } from "./tenant";
import { RideAlong } from "./ride-along";
import { STALE_CALL_MS } from "./tenant-api";
import { TenantBatch } from "./tenant-batch";
import { timeOrderedUuid } from "../lib/crypto";

/** This isolate's creates and records of RunAPI's ids, gathered per tenant: one call to its object for many. */
const creates = new TenantBatch<CreateTaskRequest, CreateTaskResult>(STALE_CALL_MS);
const submissions = new TenantBatch<Submission, undefined>();
/**
 * Records of RunAPI's ids waiting to ride in the tenant's next create call (one call for both: a busy tenant's object
 * gets one call per batch of creates, not two); one that finds none within 50 ms goes on its own.
 */
const riding = new RideAlong<Submission>(50);

/** Everything a create needs once the request is validated and priced. */
export interface CreateInput {
  tenantId: string;
  keyId: string;
  endUser: string | null;
  /** A browser-side caller (publishable key, end-user token): refusals hide the tenant's figures. */
  backend: boolean;
  /** Who is asking: the earlier tasks a request may name (`source_task_id`) are the ones it may see. */
  viewer: TaskViewer;
  request: CatalogRequest;
  route: UpstreamRoute;
  /** Task-reference fields holding the proxy's ids of the caller's earlier tasks. */
  references: Record<string, string>;
  price: Price;
  budgets: ScopeBudget[];
  limits: { maxConcurrentTasks: number | null; requestsPerMinute: number | null; endUserRequestsPerMinute: number | null };
  /** Percent thresholds for budget alerts (none without a tenant webhook). */
  alertThresholds: readonly number[];
  /** The Idempotency-Key scoped to the credential, and the hash of the normalised body. */
  idempotency: { key: string; bodyHash: string; derived?: boolean } | null;
  /** Where the tenant wants the terminal task (the request's callback_url or the tenant's webhook_url). */
  notifyUrl: string | null;
  /** The proxy's public origin, for the callback URL given to RunAPI. */
  origin: string;
  /** The tenant's claim on RunAPI's capacity, and whether this create waits in the queue beyond the tenant's share (SPEC §14). */
  capacity: { weight: number; floor: number; queue: boolean };
}

/**
 * How a create ended: RunAPI accepted it, its answer was lost (the task is being reconciled), it waits in the queue for
 * the tenant's share of RunAPI's capacity, RunAPI answered 429 and the object sends it again later, or it replays an earlier one.
 */
export type CreateOutcome =
  | { kind: "created" | "unknown" | "queued" | "retrying"; taskId: string; budgets: ScopeState[] }
  | { kind: "replayed"; view: TaskView; estimateMicros: Micros };

/**
 * The create, start to end (SPEC §5): one call to the tenant's object reserves the money and writes
 * the task; then RunAPI is called with the task id as its Idempotency-Key; then the outcome is
 * recorded. A refusal or RunAPI's error is thrown as the AppError the client sees. Nothing is lost
 * when this Worker dies mid-way: the tenant object's alarm re-sends a create nobody recorded.
 */
export async function createTask(env: Bindings, config: Config, waitUntil: (p: Promise<unknown>) => void, input: CreateInput): Promise<CreateOutcome> {
  const taskId = timeOrderedUuid();
  const now = Date.now();
  const callbackUrl = `${input.origin}/webhooks/runapi/${taskId}/${await callbackToken(config.signingSecret, input.tenantId, taskId)}`;
  const tenant = ledgerStub(env, input.tenantId);
  const req: CreateTaskRequest = {
    taskId,
    keyId: input.keyId,
    endUser: input.endUser,
    model: input.request.model ?? input.request.action,
    amountMicros: input.price.micros,
    costMicros: input.price.costMicros,
    now,
    budgets: input.budgets,
    maxConcurrentTasks: input.limits.maxConcurrentTasks,
    requestsPerMinute: input.limits.requestsPerMinute,
    endUserRequestsPerMinute: input.limits.endUserRequestsPerMinute,
    alertThresholds: input.alertThresholds,
    idempotency: input.idempotency,
    viewer: input.viewer,
    capacity: input.capacity,
    init: {
      id: taskId,
      tenantId: input.tenantId,
      keyId: input.keyId,
      endUser: input.endUser,
      request: input.request,
      route: input.route,
      references: input.references,
      estimateMicros: input.price.micros,
      costMicros: input.price.costMicros,
      markupPercent: input.price.markupPercent,
      priceSource: input.price.source,
      callbackUrl,
      notifyUrl: input.notifyUrl,
      now,
    },
  };
  let held: CreateTaskResult;
  try {
    held = await creates.call(input.tenantId, req, (reqs) => {
      // The call carries other requests' creates too, and RunAPI's ids for earlier ones: it must end even if this request's client goes away.
      const carried = riding.take(input.tenantId);
      const call = tenant.createTasks(reqs, Date.now(), carried);
      waitUntil(call.catch(() => (carried.length ? sendSubmissions(tenant, input.tenantId, carried) : undefined)));
      return call;
    });
    // A replay of a create still with RunAPI: this call waits (briefly) for its outcome.
    if (!held.ok && held.code === "idempotency_in_progress") held = await tenant.createTask(req);
  } catch {
    // The object's answer is lost, but it may have held the create. This Worker never sent it to RunAPI, so it withdraws
    // it: the money is free now, and the alarm will not send a create the client was told failed.
    // If that call fails too, the create may still be held: the route says so, and the alarm sends it later.
    const withdrawn = await tenant.submitRefused(taskId, NOT_SENT).then(
      () => true,
      () => false,
    );
    throw withdrawn ? notStarted() : unconfirmed(taskId);
  }
  if (!held.ok) {
    if (held.code === "failed") throw notStarted();
    if (held.code === "invalid_reference") {
      throw invalidRequest([{ field: held.field, message: "must be the id of one of your own tasks that RunAPI accepted" }]);
    }
    if (held.code === "idempotent_replay") return { kind: "replayed", view: held.view, estimateMicros: held.estimate_micros };
    if (held.code === "idempotency_in_progress") {
      throw new AppError("idempotency_conflict", "This Idempotency-Key belongs to a request that is still in progress; retry shortly", undefined, {
        "Retry-After": "1",
      });
    }
    throw refusal(held, microsToUsd(input.price.micros), input.backend);
  }
  // Beyond the tenant's share of RunAPI's capacity: held in its queue; its object sends it when the share frees.
  if (held.queued) return { kind: "queued", taskId, budgets: held.budgets };

  const client = new RunApiClient(config, env.RUNAPI);
  try {
    const body = { ...createBody(newTaskRecord(req.init, held.upstreamRefs)), callback_url: callbackUrl };
    const { id } = await client.createTask(input.route.path, body, taskId);
    // The client need not wait for this write (it rides in the tenant's next create call, or goes alone within 50 ms): if
    // it is lost, the alarm re-sends the create and RunAPI answers with this id.
    waitUntil(riding.ride(input.tenantId, { taskId, upstreamId: id }, (items) => sendSubmissions(tenant, input.tenantId, items)));
    return { kind: "created", taskId, budgets: held.budgets };
  } catch (err) {
    if (isLostAnswer(err)) {
      log.warn("create_outcome_unknown", { task_id: taskId, error: err instanceof AppError ? err.code : errorName(err) });
      waitUntil(tenant.submitUnknown(taskId).catch(() => undefined));
      return { kind: "unknown", taskId, budgets: held.budgets };
    }
    if (err instanceof AppError && err.code === "rate_limited" && err.details?.upstream_status === 429) {
      // RunAPI is at its capacity (it made nothing): a create that may wait is sent again by the object; another is refused.
      // If the object cannot be told, its alarm sends the create again later: the client gets the id to follow, never a false "nothing held".
      const retryAfter = Number(err.details.retry_after_seconds ?? 30);
      const after = await tenant.submitThrottled(taskId, retryAfter, input.capacity.queue, err.message).catch(() => "retrying" as const);
      if (after === "retrying") return { kind: "retrying", taskId, budgets: held.budgets };
      const { retryable: _r, ...details } = err.details;
      throw new AppError(err.code, err.message, { ...details, reason: "upstream_capacity", task_id: taskId }, err.headers);
    }
    const error = err instanceof AppError ? err : new AppError("upstream_error", "The request to RunAPI failed");
    // Awaited, so that a retry with the same Idempotency-Key is free at once.
    // If this write is lost too, the alarm re-sends the create and hears the same refusal.
    await tenant
      .submitRefused(taskId, { code: error.code, message: error.message })
      .catch((e: unknown) => log.warn("record_refusal_failed", { task_id: taskId, error: errorName(e) }));
    const { retryable: _retryable, ...details } = error.details ?? {};
    throw new AppError(error.code, error.message, { ...details, task_id: taskId }, error.headers);
  }
}

const NOT_SENT = {
  code: "service_unavailable" as const,
  message: "The task could not be started: nothing was sent to RunAPI and nothing is held. Retry shortly.",
};

/**
 * Neither the hold's answer nor its withdrawal came back: the create may be held, and then the object's alarm sends it.
 * The client learns the task's id, and a retry of the same request (with its Idempotency-Key, or without one within
 * minutes) gets that task, never a second one (SPEC §13).
 */
function unconfirmed(taskId: string): AppError {
  return new AppError(
    "service_unavailable",
    `The task ${taskId} could not be confirmed: it may be held and sent shortly. Read it at GET /api/v1/tasks/${taskId}; a retry of the same request gets this task, never a second one.`,
    { task_id: taskId },
    { "Retry-After": "1" },
  );
}

function notStarted(): AppError {
  return new AppError(NOT_SENT.code, NOT_SENT.message, undefined, { "Retry-After": "1" });
}

/** Records RunAPI's ids for tasks, gathered with the tenant's other records in calls of their own. */
function sendSubmissions(tenant: ReturnType<typeof ledgerStub>, tenantId: string, items: Submission[]): Promise<void> {
  return submissions.postAll(
    tenantId,
    items,
    (batch) => tenant.submitted(batch),
    (err, batch) => log.warn("record_submission_failed", { tasks: batch.length, error: errorName(err) }),
  );
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : "unknown";
}
