import type { Modality } from "../src/catalog/catalog";
import { outputsOf } from "./outputs";

/** Pure task logic of the simulator: request markers, status over time, the task JSON RunAPI shows. */

type Scalar = string | number | boolean | null;
type Flat = Scalar | Scalar[] | { [key: string]: Scalar | Scalar[] };
/**
 * An output field's value, JSON at most three levels deep: what crosses the simulator object's RPC boundary
 * must be typed (`unknown` cannot be, nor a recursive JSON type).
 */
export type OutputValue = Flat | Flat[] | { [key: string]: Flat | Flat[] };

/** A RunAPI task status. */
export type SimStatus = "pending" | "processing" | "completed" | "failed";

/** When a task moves on by itself, in milliseconds after creation. */
export interface Timings {
  processingAfterMs: number;
  completeAfterMs: number;
}

/** Faults asked for in a request's text (`[sim:…]` in any string field). */
export interface Markers {
  error500: boolean;
  /** Create answers 422, as RunAPI does for a request its own validation refuses. */
  unprocessable: boolean;
  rateLimited: boolean;
  slow: boolean;
  fail: boolean;
  noCallback: boolean;
  /** Status GETs answer 503 until the task is terminal (a flaky RunAPI, for the proxy's polling). */
  statusUnavailable: boolean;
  /** Status GETs answer 404, as RunAPI does for a task it no longer knows. */
  statusGone: boolean;
  /** Status GETs answer 200 with a body that is not a task. */
  statusGarbage: boolean;
  costCents: number | undefined;
  /** `[sim:cost=none]`: the finished task reports no `cost_cents` at all. */
  noCost: boolean;
}

/** A task as the simulator stores it. */
export interface TaskRecord {
  id: string;
  /** RunAPI's service slug (`veo-3-1`). */
  service: string;
  /** The action it was created on (`text_to_video`). */
  endpoint: string;
  modality: Modality;
  /** null for an action that takes no model. */
  model: string | null;
  /** The request's prompt (or its main text), for the control API. */
  prompt: string;
  /** Every string of the request, where `[sim:…]` markers are read. */
  text: string;
  /** The request body as received. */
  body: Record<string, unknown>;
  /** What the simulator's schedule priced it at when it was made; null when it had no price. */
  priceCents: number | null;
  callbackUrl: string | null;
  createdAt: number;
  forcedStatus: SimStatus | null;
  forcedAt: number | null;
  forcedCostCents: number | null;
  forcedError: string | null;
  /** Where the simulator was reached when the task was created: its video is served there. */
  baseUrl?: string | null;
}

/** The task JSON of a status GET and of a callback: its outputs per modality when completed. */
export interface TaskView {
  id: string;
  task_id: string;
  status: SimStatus;
  model: string | null;
  videos?: { url: string }[];
  images?: { url: string }[];
  audios?: { id: string; audio_url: string; duration: number }[];
  error?: { code: string; message: string };
  cost_cents?: number;
  created_at: string;
  updated_at: string;
  /** Utility outputs (`lyrics`, `seed`, `midi`…). */
  [output: string]: OutputValue | undefined;
}

const COST = /\[sim:cost=(\d+(?:\.\d+)?)\]/;

/** Finds the `[sim:…]` fault markers in a request's text. */
export function parseMarkers(text: string): Markers {
  const cost = COST.exec(text);
  return {
    error500: text.includes("[sim:500]"),
    unprocessable: text.includes("[sim:422]"),
    rateLimited: text.includes("[sim:429]"),
    slow: text.includes("[sim:slow]"),
    fail: text.includes("[sim:fail]"),
    noCallback: text.includes("[sim:no-callback]"),
    statusUnavailable: text.includes("[sim:status-503]"),
    statusGone: text.includes("[sim:status-404]"),
    statusGarbage: text.includes("[sim:status-garbage]"),
    costCents: cost?.[1] !== undefined ? Number(cost[1]) : undefined,
    noCost: text.includes("[sim:cost=none]"),
  };
}

const RANK: Record<SimStatus, number> = { pending: 0, processing: 1, completed: 2, failed: 2 };

/** Whether a status is final. */
export function isTerminal(status: SimStatus): boolean {
  return RANK[status] === 2;
}

/** Whether moving from `from` to `to` goes forward (terminal states never change). */
export function movesForward(from: SimStatus, to: SimStatus): boolean {
  return RANK[to] > RANK[from];
}

/**
 * A task's status at `now` and when it got there: time since creation decides
 * (pending → processing → completed, or failed with `[sim:fail]`), unless a forced
 * state is further along. States never go backwards.
 */
export function progress(
  task: Pick<TaskRecord, "createdAt" | "text" | "forcedStatus" | "forcedAt">,
  now: number,
  timings: Timings,
): { status: SimStatus; since: number } {
  const elapsed = now - task.createdAt;
  const natural: { status: SimStatus; since: number } =
    elapsed < timings.processingAfterMs
      ? { status: "pending", since: task.createdAt }
      : elapsed < timings.completeAfterMs
        ? { status: "processing", since: task.createdAt + timings.processingAfterMs }
        : { status: parseMarkers(task.text).fail ? "failed" : "completed", since: task.createdAt + timings.completeAfterMs };
  if (task.forcedStatus === null || task.forcedAt === null) return natural;
  const forced = { status: task.forcedStatus, since: task.forcedAt };
  if (isTerminal(forced.status)) return forced;
  return movesForward(forced.status, natural.status) ? natural : forced;
}

/** The task as RunAPI's status GET (and its callback) shows it at `now`. */
export function taskView(task: TaskRecord, now: number, timings: Timings): TaskView {
  const { status, since } = progress(task, now, timings);
  const view: TaskView = {
    id: task.id,
    task_id: task.id,
    status,
    model: task.model,
    created_at: new Date(task.createdAt).toISOString(),
    updated_at: new Date(since).toISOString(),
  };
  if (status === "completed") {
    Object.assign(view, outputsOf({ id: task.id, action: task.endpoint, modality: task.modality, baseUrl: task.baseUrl ?? null, body: task.body }));
    const markers = parseMarkers(task.text);
    const cost = task.forcedCostCents ?? markers.costCents ?? (markers.noCost ? null : task.priceCents);
    if (cost !== null && cost !== undefined) view.cost_cents = cost;
  }
  if (status === "failed") {
    view.error = { code: "generation_failed", message: task.forcedError ?? "The simulated generation failed" };
  }
  return view;
}

/** When a task that nobody forces becomes terminal by itself. */
export function naturalTerminalAt(task: Pick<TaskRecord, "createdAt">, timings: Timings): number {
  return task.createdAt + timings.completeAfterMs;
}

/** Every string in a request body, one a line: where markers are read, whatever the action calls its text. */
export function stringsOf(value: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v !== null && typeof v === "object") for (const x of Object.values(v)) walk(x);
  };
  walk(value);
  return out.join("\n");
}

/** The text a task is shown with: its prompt, or the first text-like field. */
export function promptOf(body: Record<string, unknown>): string {
  for (const key of ["prompt", "text", "lyrics", "style", "title"]) if (typeof body[key] === "string") return body[key] as string;
  return "";
}

/** Key-order-independent JSON, so an idempotent retry with reordered fields still matches. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
