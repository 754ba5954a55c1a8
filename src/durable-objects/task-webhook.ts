import type { TaskRecord } from "../domain/task-record";
import { taskView } from "../domain/task-record";
import { webhookRetryDelayMs } from "../domain/task-state";
import { signWebhook } from "../domain/webhook-signing";

const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * One attempt to deliver a terminal task to the tenant's webhook, signed per Standard Webhooks.
 * Returns the task's new webhook state: delivered on 2xx, else pending with the next retry time,
 * or failed once the retry schedule is used up. Every attempt is recorded.
 */
export async function deliverWebhook(task: TaskRecord, secret: string | null, now: number): Promise<TaskRecord["webhook"]> {
  const attempt = task.webhook.deliveries.length + 1;
  const url = task.notify_url;
  if (!url || !secret) {
    const error = url ? "the tenant has no webhook signing secret" : "no webhook URL";
    return { state: "failed", next_at: null, deliveries: [...task.webhook.deliveries, { attempt, at: new Date(now).toISOString(), status: null, duration_ms: 0, error }] };
  }
  // The body is the terminal task itself, as RunAPI's own callback is, so a receiver written for RunAPI works as is.
  const body = JSON.stringify(taskView({ ...task, notify_url: null }));
  const headers = await signWebhook(secret, `msg_${task.id}`, Math.floor(now / 1000), body);
  const started = Date.now();
  let status: number | null = null;
  let error: string | undefined;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json", "User-Agent": "runapi-edge-proxy-webhooks/0.1" },
      body,
      redirect: "manual", // a redirect is not a delivery, and signed payloads go only where the tenant said
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    status = res.status;
    await res.body?.cancel();
  } catch (err) {
    error = err instanceof Error && err.name === "TimeoutError" ? "timed out" : "connection failed";
  }
  const deliveries = [...task.webhook.deliveries, { attempt, at: new Date(now).toISOString(), status, duration_ms: Date.now() - started, ...(error ? { error } : {}) }];
  if (status !== null && status >= 200 && status < 300) return { state: "delivered", next_at: null, deliveries };
  const delay = webhookRetryDelayMs(attempt);
  return delay === null ? { state: "failed", next_at: null, deliveries } : { state: "pending", next_at: Date.now() + delay, deliveries };
}
