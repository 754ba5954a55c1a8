import type { Modality } from "../src/catalog/catalog";
import { stringsOf, type SimStatus, type TaskRecord, type TaskView } from "./progress";

/** The simulator object's stored shapes: what it records, and how its task and callback rows read back. */

/** One request the simulator received on /api or /v1, as it arrived. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: string;
}

/** A terminal task's callback: queued (outbox mode) or being delivered (fetch mode). */
export interface SimCallback {
  task_id: string;
  url: string;
  body: TaskView;
  at: string;
  state: "outbox" | "pending" | "delivered" | "failed";
  attempts: number;
}

/** What a create asks the state to do. */
export interface CreateInput {
  /** RunAPI's service slug (`veo-3-1`). */
  service: string;
  /** The action (`text_to_video`). */
  endpoint: string;
  modality: Modality;
  model: string | null;
  /** The request body as received (already checked). */
  body: Record<string, unknown>;
  /** Answered at once: the task is made completed. */
  sync: boolean;
  callbackUrl: string | null;
  idempotencyKey: string | null;
  fingerprint: string;
  /** The origin the create came in on: the task's video URL is served from there. */
  baseUrl: string | null;
}

/** The create response body RunAPI answers with (a synchronous action answers with the finished task). */
export interface CreatedTask {
  id: string;
  task_id: string;
  status: "pending";
  model: string | null;
}

/** What a create answers: the new task, or for a synchronous action the finished one. */
export type CreateAnswer = CreatedTask | TaskView;

/** One Idempotency-Key the simulator saw and the task it made for it. */
export interface IdempotencyRecord {
  key: string;
  task_id: string;
  status: SimStatus;
  prompt: string;
  cost_cents?: number;
}

/** A forced move of the control API. */
export interface AdvanceInput {
  status: Exclude<SimStatus, "pending">;
  cost_cents?: number;
  error?: string;
}

/** A task for the control API: the status view plus what the simulator was told (`text`: every string of the request). */
export type TaskDetail = TaskView & { service: string; endpoint: string; callback_url: string | null; prompt: string; text: string };

/** A task's media file as a download sees it. */
export interface FileDownload {
  text: string;
  status: SimStatus;
  modality: Modality;
  files: number;
  downloads: number;
  vanished: boolean;
}

/** Requests kept in the record (the oldest are dropped). */
export const MAX_RECORDED = 10_000;
/** Attempts at delivering one callback (fetch mode), and the waits between them. */
export const DELIVERY_ATTEMPTS = 3;
/** Waits before the second and third delivery attempts. */
export const RETRY_DELAY_MS = [1_000, 5_000];

/** A row of the tasks table. */
export type TaskRow = {
  id: string;
  base_url: string | null;
  service: string | null;
  endpoint: string;
  modality: string | null;
  model: string | null;
  prompt: string;
  body: string | null;
  price_cents: number | null;
  callback_url: string | null;
  created_at: number;
  forced_status: string | null;
  forced_at: number | null;
  forced_cost_cents: number | null;
  forced_error: string | null;
};
/** A row of the callbacks table. */
export type CallbackRow = { seq: number; task_id: string; url: string; body: string; at: string; state: string; attempts: number };

/** A task row as the pure task logic reads it (rows from before the whole catalog read as Hailuo video tasks). */
export const toRecord = (r: TaskRow): TaskRecord => {
  const body = r.body === null ? {} : (JSON.parse(r.body) as Record<string, unknown>);
  return {
    id: r.id,
    service: r.service ?? "hailuo",
    endpoint: r.endpoint,
    modality: (r.modality ?? "video") as Modality,
    model: r.model,
    prompt: r.prompt,
    text: r.body === null ? r.prompt : stringsOf(body),
    body,
    priceCents: r.price_cents,
    callbackUrl: r.callback_url,
    createdAt: r.created_at,
    forcedStatus: r.forced_status as SimStatus | null,
    forcedAt: r.forced_at,
    forcedCostCents: r.forced_cost_cents,
    forcedError: r.forced_error,
    baseUrl: r.base_url,
  };
};

/** Columns added since the first version of the table (a persisted `npm start` state is upgraded in place). */
export const ADDED_COLUMNS = ["base_url TEXT", "service TEXT", "modality TEXT", "body TEXT", "price_cents REAL"];

/** A callback row as the control API shows it. */
export const toCallback = (r: CallbackRow): SimCallback => ({
  task_id: r.task_id,
  url: r.url,
  body: JSON.parse(r.body) as TaskView,
  at: r.at,
  state: r.state as SimCallback["state"],
  attempts: r.attempts,
});
