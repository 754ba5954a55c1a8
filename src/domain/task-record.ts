import type { Endpoint, HailuoRequest } from "./hailuo";
import { microsToUsd, type Micros } from "./money";
import { canTransition, isTerminal, type TaskStatus, type TransitionSource } from "./task-state";

/** What the create route hands the task object. */
export interface TaskInit {
  id: string;
  tenantId: string;
  keyId: string;
  endUser: string | null;
  endpoint: Endpoint;
  request: HailuoRequest;
  estimateMicros: Micros;
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

/** Everything the task object stores. */
export interface TaskRecord {
  id: string;
  tenant_id: string;
  key_id: string;
  end_user: string | null;
  endpoint: Endpoint;
  model: string;
  request: HailuoRequest;
  estimate_micros: Micros;
  price_source: string;
  charge_micros: Micros | null;
  /** What RunAPI reported the task cost, when it did (the charge is this, capped at the reservation). */
  reported_cost_micros?: Micros;
  status: TaskStatus;
  upstream_id: string | null;
  videos: { url: string }[] | null;
  error: { code: string; message: string } | null;
  created_at: number;
  updated_at: number;
  history: { status: TaskStatus; at: number; source: TransitionSource }[];
  /** Polling: the next time to ask RunAPI, how many polls so far, whether a callback asked for a check. */
  next_poll_at: number | null;
  polls: number;
  wake_requested: boolean;
  /** Money: `pending` until the ledger has confirmed settle or release of the reservation. */
  ledger: "open" | "pending" | "done";
  notify_url: string | null;
  webhook: { state: "none" | "pending" | "delivered" | "failed"; next_at: number | null; deliveries: WebhookDelivery[] };
}

/** A task as the API shows it (SPEC §3). */
export interface TaskView {
  id: string;
  task_id: string;
  status: TaskStatus;
  model: string;
  videos?: { url: string }[];
  /** What went wrong, as RunAPI's task shows it: a message string (RunAPI's SDKs read `error` so). */
  error?: string;
  /** A machine-readable code for `error`. */
  error_code?: string;
  estimated_cost_usd: number;
  charged_usd: number | null;
  created_at: string;
  updated_at: string;
  webhook_deliveries?: WebhookDelivery[];
}

/** A new record for a task about to be submitted. */
export function newTaskRecord(init: TaskInit): TaskRecord {
  return {
    id: init.id,
    tenant_id: init.tenantId,
    key_id: init.keyId,
    end_user: init.endUser,
    endpoint: init.endpoint,
    model: init.request.model,
    request: init.request,
    estimate_micros: init.estimateMicros,
    price_source: init.priceSource,
    charge_micros: null,
    status: "pending",
    upstream_id: null,
    videos: null,
    error: null,
    created_at: init.now,
    updated_at: init.now,
    history: [{ status: "pending", at: init.now, source: "create" }],
    next_poll_at: null,
    polls: 0,
    wake_requested: false,
    ledger: "open",
    notify_url: init.notifyUrl,
    webhook: { state: "none", next_at: null, deliveries: [] },
  };
}

/** A change RunAPI (or the clock) reports for a task. */
export interface Observation {
  status: TaskStatus;
  source: TransitionSource;
  videos?: { url: string }[];
  error?: { code: string; message: string };
  /** The actual charge when RunAPI reported one. */
  chargeMicros?: Micros;
}

/**
 * Applies an observation; returns false (and changes nothing) unless it moves the task forward.
 * On a terminal state the charge is fixed (the reported cost capped at the reservation, else the estimate;
 * 0 unless completed),
 * the ledger is marked for settlement, and a tenant webhook is queued.
 */
export function applyObservation(task: TaskRecord, obs: Observation, now: number): boolean {
  if (!canTransition(task.status, obs.status)) return false;
  task.status = obs.status;
  task.updated_at = now;
  task.history.push({ status: obs.status, at: now, source: obs.source });
  if (obs.videos?.length) task.videos = obs.videos;
  if (obs.error) task.error = obs.error;
  if (isTerminal(obs.status)) {
    // The reservation is the most a task can cost the tenant: a budget admitted exactly that much.
    task.charge_micros = obs.status === "completed" ? Math.min(obs.chargeMicros ?? task.estimate_micros, task.estimate_micros) : 0;
    if (obs.status === "completed" && obs.chargeMicros !== undefined) task.reported_cost_micros = obs.chargeMicros;
    task.ledger = "pending";
    task.next_poll_at = null;
    task.wake_requested = false;
    if (task.notify_url) task.webhook = { ...task.webhook, state: "pending", next_at: now };
  }
  return true;
}

/** The public view of a task. */
export function taskView(task: TaskRecord): TaskView {
  const view: TaskView = {
    id: task.id,
    task_id: task.id,
    status: task.status,
    model: task.model,
    estimated_cost_usd: microsToUsd(task.estimate_micros),
    charged_usd: task.charge_micros === null ? null : microsToUsd(task.charge_micros),
    created_at: new Date(task.created_at).toISOString(),
    updated_at: new Date(task.updated_at).toISOString(),
  };
  if (task.videos) view.videos = task.videos;
  if (task.error) {
    view.error = task.error.message;
    view.error_code = task.error.code;
  }
  if (task.notify_url) view.webhook_deliveries = task.webhook.deliveries;
  return view;
}
