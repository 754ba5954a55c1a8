import { upstreamBody, type CatalogRequest } from "../catalog/request";
import { formatUsd, microsToUsd, type Micros } from "./money";
import { withMarkup } from "./markup";
import { nextArchiveAt, upgradeArchive, webhookReleaseAt, type MediaArchive, type StoredArchive } from "./media-archive";
import { canTransition, isTerminal, nextPollDelayMs, reconcileDelayMs, WAKE_MIN_GAP_MS, type TaskStatus, type TransitionSource } from "./task-state";

/** Where and how RunAPI is asked about a task: its action's path, and whether the body names the model. */
export interface UpstreamRoute {
  path: string;
  sendsModel: boolean;
}

/** What the create flow hands the tenant's object for a new task. */
export interface TaskInit {
  id: string;
  tenantId: string;
  keyId: string;
  endUser: string | null;
  request: CatalogRequest;
  route: UpstreamRoute;
  /** Task-reference fields naming the caller's earlier tasks (proxy ids), resolved to RunAPI's ids by the object. */
  references: Record<string, string>;
  /** The tenant's price, reserved. */
  estimateMicros: Micros;
  /** RunAPI's cost of that estimate, and the markup that turns a reported cost into the tenant's price. */
  costMicros: Micros;
  markupPercent: number;
  priceSource: string;
  /** The proxy's own callback URL that RunAPI will POST to. */
  callbackUrl: string;
  /** Where the tenant wants the terminal task: the request's callback_url or the tenant's webhook_url. */
  notifyUrl: string | null;
  now: number;
}

/** One attempt to deliver the terminal task to the tenant's webhook. */
export interface WebhookDelivery {
  attempt: number;
  at: string;
  status: number | null;
  duration_ms: number;
  error?: string;
}

/**
 * Where the create stands with RunAPI: `queued` while it waits in the proxy for its tenant's share of
 * RunAPI's capacity (never sent), `submitting` while the Worker's first call is under way, `sending` while
 * the tenant's object sends it itself (it left the queue, or RunAPI answered 429 and it is sent again after
 * `Retry-After`), `accepted` once RunAPI answered with its id, `unknown` when the answer was lost (timeout,
 * reset, a process dying mid-call): RunAPI may have made the task, so the proxy finds out before money moves.
 */
export type SubmitState = "queued" | "submitting" | "sending" | "accepted" | "unknown";

/** Everything the tenant's object stores for one task. */
export interface TaskRecord {
  id: string;
  tenant_id: string;
  key_id: string;
  end_user: string | null;
  service: string;
  action: string;
  /** The model, or the action's name for one that takes none. */
  model: string;
  request: CatalogRequest;
  route: UpstreamRoute;
  /** Task-reference fields swapped for RunAPI's ids (sent in place of the client's proxy ids). */
  upstream_refs: Record<string, string>;
  estimate_micros: Micros;
  /** RunAPI's cost of the estimate, and the markup applied to it (the tenant's price = cost with markup). */
  cost_estimate_micros: Micros;
  markup_percent: number;
  price_source: string;
  charge_micros: Micros | null;
  /** What RunAPI reported the task cost, when it did (the charge is this with markup, capped at the reservation). */
  reported_cost_micros?: Micros;
  /** RunAPI's cost of the charge: reported, else the estimate's. */
  cost_micros?: Micros | null;
  status: TaskStatus;
  submit: SubmitState;
  /** Re-sends of the create made to learn an unknown outcome. */
  submit_attempts: number;
  /** The Worker that made the create said how it ended (accepted, unknown, refused): its client was told. */
  reported?: boolean;
  /** The scoped Idempotency-Key (sent or derived) whose record names this task: a submission RunAPI refused forgets it by key. */
  idempotency_key?: string;
  /** When to re-send the create next (outcome unknown). */
  next_submit_at: number | null;
  /** How many times RunAPI answered this create 429 (only the first tells the coordinator RunAPI's limit is lower). */
  throttles?: number;
  upstream_id: string | null;
  /** An id RunAPI's callback named for a task whose create answer was lost; trusted only after a status GET. */
  upstream_hint: string | null;
  callback_url: string;
  videos: { url: string }[] | null;
  /** The rest of RunAPI's finished task: outputs of every modality (`images`, `audios`, `video_url`, …). */
  result?: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  created_at: number;
  updated_at: number;
  history: { status: TaskStatus; at: number; source: TransitionSource }[];
  /** Polling: the next time to ask RunAPI, how many polls so far, whether a callback asked for a check. */
  next_poll_at: number | null;
  last_poll_at: number | null;
  polls: number;
  wake_requested: boolean;
  notify_url: string | null;
  webhook: { state: "none" | "pending" | "delivered" | "failed"; next_at: number | null; deliveries: WebhookDelivery[] };
  /** The tenant's webhook hears that a queued task started (`queued` → `pending`); dropped once the task ends first. */
  started_notice?: { state: "pending" | "delivered" | "failed" | "superseded"; next_at: number | null; attempts: number };
  /** The copy of its output files into R2 (SPEC §11, §12), from completion on when the archive is bound. */
  archive?: MediaArchive;
}

/** A task as the API shows it (SPEC §3). */
export interface TaskView {
  id: string;
  task_id: string;
  status: TaskStatus;
  model: string;
  /** RunAPI's links, or the proxy's signed ones once archived (RunAPI's then in `source_url`); other outputs alike. */
  videos?: { url: string; source_url?: string }[];
  /** What went wrong, as RunAPI's task shows it: a message string (RunAPI's SDKs read `error` so). */
  error?: string;
  /** A machine-readable code for `error` (`task_expired` for a task given up on). */
  error_code?: string;
  estimated_cost_usd: number;
  charged_usd: number | null;
  created_at: string;
  updated_at: string;
  /** Present while the proxy is still finding out whether RunAPI accepted the create. */
  submission?: "unknown";
  /** Deliveries to the tenant's webhook; shown to the tenant's own servers only. */
  webhook_deliveries?: WebhookDelivery[];
  /** The service and action that made the task. */
  service?: string;
  action?: string;
  /** RunAPI's result fields (`images`, `audios`, `video_url`, …), as RunAPI's own status read shows them. */
  [output: string]: unknown;
}

/** A new record for a task about to be submitted, or (`queued`) held until its tenant's share of RunAPI's capacity frees. */
export function newTaskRecord(init: TaskInit, upstreamRefs: Record<string, string> = {}, queued = false): TaskRecord {
  const status: TaskStatus = queued ? "queued" : "pending";
  return {
    id: init.id,
    tenant_id: init.tenantId,
    key_id: init.keyId,
    end_user: init.endUser,
    service: init.request.service,
    action: init.request.action,
    model: init.request.model ?? init.request.action,
    request: init.request,
    route: init.route,
    upstream_refs: upstreamRefs,
    estimate_micros: init.estimateMicros,
    cost_estimate_micros: init.costMicros,
    markup_percent: init.markupPercent,
    price_source: init.priceSource,
    charge_micros: null,
    status,
    submit: queued ? "queued" : "submitting",
    submit_attempts: 0,
    next_submit_at: null,
    upstream_id: null,
    upstream_hint: null,
    callback_url: init.callbackUrl,
    videos: null,
    error: null,
    created_at: init.now,
    updated_at: init.now,
    history: [{ status, at: init.now, source: "create" }],
    next_poll_at: null,
    last_poll_at: null,
    polls: 0,
    wake_requested: false,
    notify_url: init.notifyUrl,
    webhook: { state: "none", next_at: null, deliveries: [] },
  };
}

/** A change RunAPI (or the clock) reports for a task. */
export interface Observation {
  status: TaskStatus;
  source: TransitionSource;
  videos?: { url: string }[];
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
  /** RunAPI's actual cost when it reported one (the tenant is charged it with markup, capped at the reservation). */
  costMicros?: Micros;
}

/** A change to a task: mutates it, and may report an observation to apply (nothing to report: no return). */
// biome-ignore lint/suspicious/noConfusingVoidType: a change that only mutates returns nothing
export type TaskChange = (task: TaskRecord, now: number) => Observation | null | void;

/**
 * Applies an observation; returns false (and changes nothing) unless it moves the task forward.
 * On a terminal state the charge is fixed (the reported cost capped at the reservation, else the
 * estimate; 0 unless completed) and a tenant webhook is queued. The caller settles or releases
 * the reservation in the same transaction.
 */
export function applyObservation(task: TaskRecord, obs: Observation, now: number): boolean {
  if (!canTransition(task.status, obs.status)) return false;
  task.status = obs.status;
  task.updated_at = now;
  task.history.push({ status: obs.status, at: now, source: obs.source });
  if (obs.videos?.length) task.videos = obs.videos;
  if (obs.result) task.result = obs.result;
  if (obs.error) task.error = obs.error;
  if (isTerminal(obs.status)) {
    // The reservation is the most a task can cost the tenant: a budget admitted exactly that much.
    const completed = obs.status === "completed";
    const priced = obs.costMicros === undefined ? task.estimate_micros : withMarkup(obs.costMicros, task.markup_percent ?? 0);
    task.charge_micros = completed ? Math.min(priced, task.estimate_micros) : 0;
    task.cost_micros = completed ? (obs.costMicros ?? task.cost_estimate_micros ?? task.estimate_micros) : 0;
    if (completed && obs.costMicros !== undefined) task.reported_cost_micros = obs.costMicros;
    task.next_poll_at = null;
    task.next_submit_at = null;
    task.wake_requested = false;
    if (task.notify_url) task.webhook = { ...task.webhook, state: "pending", next_at: now };
    // The terminal webhook tells it all: a start notice not yet delivered is not sent after it.
    if (task.started_notice?.state === "pending") task.started_notice = { ...task.started_notice, state: "superseded", next_at: null };
  }
  return true;
}

/** RunAPI answered the create (first call or a re-send) with its task id: poll after `pollAfterMs` unless told sooner. */
export function markAccepted(task: TaskRecord, upstreamId: string, nextPollAt: number): void {
  task.submit = "accepted";
  task.upstream_id = upstreamId;
  task.upstream_hint = null;
  task.next_submit_at = null;
  if (!isTerminal(task.status)) task.next_poll_at = Math.min(task.next_poll_at ?? Number.POSITIVE_INFINITY, nextPollAt);
}

/**
 * A queued task's turn came (SPEC §14): it starts (`pending`) and the tenant's object sends it at once; the tenant's
 * webhook hears it started. Returns the observation to apply, or null when it is no longer queued.
 */
export function markDequeued(task: TaskRecord, now: number): Observation | null {
  if (task.status !== "queued") return null;
  task.submit = "sending";
  task.next_submit_at = now;
  if (task.notify_url) task.started_notice = { state: "pending", next_at: now, attempts: 0 };
  return { status: "pending", source: "queue" };
}

/** A create RunAPI answered 429 this many times is given up on (failed `rate_limited`, nothing charged). */
export const MAX_THROTTLES = 3;

/** RunAPI answered a create with 429 (it made no task): the object sends it again after `retryAfterMs`, same Idempotency-Key. */
export function markThrottled(task: TaskRecord, now: number, retryAfterMs: number): void {
  if (task.submit === "accepted" || task.submit === "queued" || isTerminal(task.status)) return;
  if (task.submit === "submitting") task.submit = "sending";
  task.next_submit_at = now + retryAfterMs;
  task.throttles = (task.throttles ?? 0) + 1;
}

/** The create's answer was lost: keep the reservation and re-send the create (same Idempotency-Key) later. */
export function markUnknown(task: TaskRecord, now: number): void {
  if (task.submit === "accepted" || task.submit === "queued" || isTerminal(task.status)) return;
  task.submit = "unknown";
  task.next_submit_at = now + reconcileDelayMs(task.submit_attempts);
  task.submit_attempts += 1;
}

/** A poll happened (whatever its answer): the next one backs off. */
export function markPolled(task: TaskRecord, now: number, pollIntervalMs: number): void {
  task.polls += 1;
  task.last_poll_at = now;
  task.wake_requested = false;
  if (!isTerminal(task.status)) task.next_poll_at = now + nextPollDelayMs(pollIntervalMs, task.polls - 1);
}

/** Timing the tenant's object needs to schedule a task's work. */
export interface TaskTiming {
  /** How long after its creation (or its start, when it waited in the queue) a task is given up on. */
  ttlMs: number;
  /** The longest the Worker's first create call can take (attempts × timeout + backoff + slack). */
  longestCreateMs: number;
}

/**
 * When a task with no terminal state is given up on: its TTL, never before its first create call could have ended.
 * A task that waited in the queue (SPEC §14) counts its TTL from when it left it: waiting for capacity does not eat
 * the time RunAPI has to run it (a task sent just before its TTL would be given up on while RunAPI runs it).
 */
export function expiryDeadline(task: TaskRecord, timing: TaskTiming): number {
  const from = task.history.find((h) => h.source === "queue")?.at ?? task.created_at;
  return from + Math.max(timing.ttlMs, task.submit === "accepted" ? 0 : timing.longestCreateMs);
}

/**
 * The next time the tenant's object has work for this task, or null when it has none:
 * a create to reconcile, a poll, a callback's wake-up (at most one GET per few seconds), the
 * expiry deadline, or a webhook delivery.
 */
export function nextDueAt(task: TaskRecord, timing: TaskTiming): number | null {
  const times: number[] = [];
  if (!isTerminal(task.status)) {
    times.push(expiryDeadline(task, timing));
    if (task.submit === "submitting") times.push(task.created_at + timing.longestCreateMs);
    if ((task.submit === "unknown" || task.submit === "sending") && task.next_submit_at !== null) times.push(task.next_submit_at);
    if (task.started_notice?.state === "pending" && task.started_notice.next_at !== null) times.push(task.started_notice.next_at);
    if (task.next_poll_at !== null && task.upstream_id) times.push(task.next_poll_at);
    if (task.wake_requested && (task.upstream_id || task.upstream_hint)) times.push((task.last_poll_at ?? 0) + WAKE_MIN_GAP_MS);
  }
  // The webhook of a completed task waits (bounded) for its videos' copies, so it can carry the durable links.
  if (task.webhook.state === "pending" && task.webhook.next_at !== null) times.push(Math.max(task.webhook.next_at, webhookReleaseAt(task.archive)));
  const archiveAt = nextArchiveAt(task.archive);
  if (archiveAt !== null) times.push(archiveAt);
  return times.length ? Math.min(...times) : null;
}

/** The public view of a task; `backend` (the tenant's own servers) also sees its webhook deliveries. */
export function taskView(task: TaskRecord, opts: { backend: boolean } = { backend: true }): TaskView {
  const view: TaskView = {
    id: task.id,
    task_id: task.id,
    status: task.status,
    model: task.model,
    // RunAPI's outputs (`images`, `audios`, …) after the task's identity; the proxy's own fields win any clash.
    ...(task.result ?? {}),
    estimated_cost_usd: microsToUsd(task.estimate_micros),
    charged_usd: task.charge_micros === null ? null : microsToUsd(task.charge_micros),
    created_at: new Date(task.created_at).toISOString(),
    updated_at: new Date(task.updated_at).toISOString(),
    service: task.service,
    action: task.action,
  };
  if (task.videos) view.videos = task.videos;
  if (task.error) {
    view.error = task.error.message;
    view.error_code = task.error.code;
  }
  if (task.submit === "unknown" && !isTerminal(task.status)) view.submission = "unknown";
  if (task.notify_url && opts.backend) view.webhook_deliveries = task.webhook.deliveries;
  return view;
}

/** For the billing export: RunAPI reported more than the reservation, and the tenant was charged the reservation. */
export function overageNote(task: TaskRecord): string | null {
  const reported = task.reported_cost_micros;
  if (reported === undefined) return null;
  const priced = withMarkup(reported, task.markup_percent ?? 0);
  return priced > task.estimate_micros
    ? `RunAPI reported ${formatUsd(reported)} USD${task.markup_percent ? ` (${formatUsd(priced)} USD with markup)` : ""}; charged the ${formatUsd(task.estimate_micros)} USD reserved`
    : null;
}

/** The JSON body RunAPI receives to create (or re-send) a task, without the callback URL. */
export function createBody(task: TaskRecord): Record<string, unknown> {
  return { ...upstreamBody(task.request, task.route.sendsModel), ...task.upstream_refs };
}

/** A record as stored: this shape, or an earlier one (Hailuo only, with `endpoint`; an archive of `videos`). */
export type StoredRecord = Omit<TaskRecord, "archive"> & { endpoint?: string; archive?: StoredArchive };

/**
 * A record as stored, brought up to this shape. Records made before the whole catalog (Hailuo only)
 * carried `endpoint` and Hailuo's own request fields; they read as the same request in the one shape.
 * Archives made when only videos were archived read as archives of files at `videos/…`.
 */
export function upgradeRecord(stored: StoredRecord): TaskRecord {
  const record = upgradeRequest(stored);
  return record.archive ? { ...record, archive: upgradeArchive(record.archive) } : (record as TaskRecord);
}

function upgradeRequest(stored: StoredRecord): StoredRecord {
  if (stored.service !== undefined) return stored;
  const endpoint = stored.endpoint ?? "text_to_video";
  const { endpoint: _e, model, callback_url: _c, ...fields } = stored.request as unknown as Record<string, unknown>;
  const params = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  // The old upstream body sent duration and resolution only where the model had a choice (SPEC §2).
  const fixed = model === "hailuo-02-text-to-video-pro" || model === "hailuo-02-image-to-video-pro";
  if (fixed) delete params.duration_seconds;
  if (fixed || endpoint === "text_to_video") delete params.output_resolution;
  const { endpoint: _old, ...rest } = stored;
  return {
    ...rest,
    service: "hailuo",
    action: endpoint,
    request: { service: "hailuo", action: endpoint, model: String(model), params },
    route: { path: `/api/v1/hailuo/${endpoint}`, sendsModel: true },
    upstream_refs: {},
    cost_estimate_micros: stored.estimate_micros,
    markup_percent: 0,
  };
}
