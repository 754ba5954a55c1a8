import { taskView, type TaskRecord, type TaskView } from "../domain/task-record";
import { webhookRetryDelayMs } from "../domain/task-state";
import { signWebhook } from "../domain/webhook-signing";
import { log } from "../lib/log";
import { failureKind, metrics } from "../lib/metrics";

const DELIVERY_TIMEOUT_MS = 10_000;

/** One POST to a tenant's webhook: its status (null when no answer) and how long it took. */
export interface Attempt {
  status: number | null;
  duration_ms: number;
  error?: string;
}

/**
 * Posts `body` to `url` signed per Standard Webhooks under `secret`. Never follows a redirect (a
 * signed payload goes only where the tenant said); an unreachable host is one warning line, not a trace.
 */
export async function postSignedWebhook(url: string, secret: string, msgId: string, body: string, now: number): Promise<Attempt> {
  const headers = await signWebhook(secret, msgId, Math.floor(now / 1000), body);
  const started = Date.now();
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json", "User-Agent": "runapi-edge-proxy-webhooks/0.1" },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    await res.body?.cancel();
    const kind = failureKind({ status: res.status });
    if (kind) metrics.webhookFailure(kind);
    return { status: res.status, duration_ms: Date.now() - started };
  } catch (err) {
    const timedOut = err instanceof Error && err.name === "TimeoutError";
    metrics.webhookFailure(timedOut ? "timeout" : "network");
    const error = timedOut ? "timed out" : "connection failed";
    log.warn("webhook_undeliverable", { msg_id: msgId, host: new URL(url).host, error });
    return { status: null, duration_ms: Date.now() - started, error };
  }
}

/**
 * One attempt to deliver a terminal task (`view`, as the tenant's reads show it) to the tenant's webhook, signed per Standard Webhooks.
 * Returns the task's new webhook state: delivered on 2xx, else pending with the next retry time,
 * or failed once the retry schedule is used up. Every attempt is recorded.
 */
export async function deliverWebhook(task: TaskRecord, view: TaskView, secret: string | null, now: number): Promise<TaskRecord["webhook"]> {
  const attempt = task.webhook.deliveries.length + 1;
  const url = task.notify_url;
  if (!url || !secret) {
    const error = url ? "the tenant has no webhook signing secret" : "no webhook URL";
    return {
      state: "failed",
      next_at: null,
      deliveries: [...task.webhook.deliveries, { attempt, at: new Date(now).toISOString(), status: null, duration_ms: 0, error }],
    };
  }
  // The body is the terminal task itself (`view`: as a read shows it, archived links included), as RunAPI's own
  // callback is, so a receiver written for RunAPI works as is.
  const body = JSON.stringify(view);
  const result = await postSignedWebhook(url, secret, `msg_${task.id}`, body, now);
  const deliveries = [...task.webhook.deliveries, { attempt, at: new Date(now).toISOString(), ...result }];
  if (result.status !== null && result.status >= 200 && result.status < 300) return { state: "delivered", next_at: null, deliveries };
  const delay = webhookRetryDelayMs(attempt);
  return delay === null ? { state: "failed", next_at: null, deliveries } : { state: "pending", next_at: now + delay, deliveries };
}

/**
 * One attempt to tell the tenant's webhook that a queued task started (`queued` → `pending`, SPEC §14): the task as a
 * read shows it now, signed like the terminal delivery, retried on the same schedule; its new notice state.
 */
export async function deliverStartedNotice(task: TaskRecord, secret: string | null, now: number): Promise<NonNullable<TaskRecord["started_notice"]>> {
  const attempts = (task.started_notice?.attempts ?? 0) + 1;
  if (!task.notify_url || !secret) return { state: "failed", next_at: null, attempts };
  const body = JSON.stringify(taskView({ ...task, notify_url: null }));
  const result = await postSignedWebhook(task.notify_url, secret, `msg_${task.id}_started`, body, now);
  if (result.status !== null && result.status >= 200 && result.status < 300) return { state: "delivered", next_at: null, attempts };
  const delay = webhookRetryDelayMs(attempts);
  return delay === null ? { state: "failed", next_at: null, attempts } : { state: "pending", next_at: now + delay, attempts };
}
