/** Pure task logic of the simulator: prompt markers, status over time, the task JSON RunAPI shows. */

/** A RunAPI Hailuo task status. */
export type SimStatus = "pending" | "processing" | "completed" | "failed";

/** The two Hailuo create endpoints. */
export type HailuoEndpoint = "text_to_video" | "image_to_video";

/** When a task moves on by itself, in milliseconds after creation. */
export interface Timings {
  processingAfterMs: number;
  completeAfterMs: number;
}

/** Faults asked for in a prompt (`[sim:…]`). */
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
}

/** A task as the simulator stores it. */
export interface TaskRecord {
  id: string;
  endpoint: HailuoEndpoint;
  model: string;
  prompt: string;
  callbackUrl: string | null;
  createdAt: number;
  forcedStatus: SimStatus | null;
  forcedAt: number | null;
  forcedCostCents: number | null;
  forcedError: string | null;
  /** Where the simulator was reached when the task was created: its video is served there. */
  baseUrl?: string | null;
}

/** The task JSON of a status GET and of a callback. */
export interface TaskView {
  id: string;
  task_id: string;
  status: SimStatus;
  model: string;
  videos?: { url: string }[];
  error?: { code: string; message: string };
  cost_cents?: number;
  created_at: string;
  updated_at: string;
}

const COST = /\[sim:cost=(\d+(?:\.\d+)?)\]/;

/** Finds the `[sim:…]` fault markers in a prompt. */
export function parseMarkers(prompt: string): Markers {
  const cost = COST.exec(prompt);
  return {
    error500: prompt.includes("[sim:500]"),
    unprocessable: prompt.includes("[sim:422]"),
    rateLimited: prompt.includes("[sim:429]"),
    slow: prompt.includes("[sim:slow]"),
    fail: prompt.includes("[sim:fail]"),
    noCallback: prompt.includes("[sim:no-callback]"),
    statusUnavailable: prompt.includes("[sim:status-503]"),
    statusGone: prompt.includes("[sim:status-404]"),
    statusGarbage: prompt.includes("[sim:status-garbage]"),
    costCents: cost?.[1] !== undefined ? Number(cost[1]) : undefined,
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
  task: Pick<TaskRecord, "createdAt" | "prompt" | "forcedStatus" | "forcedAt">,
  now: number,
  timings: Timings,
): { status: SimStatus; since: number } {
  const elapsed = now - task.createdAt;
  const natural: { status: SimStatus; since: number } =
    elapsed < timings.processingAfterMs
      ? { status: "pending", since: task.createdAt }
      : elapsed < timings.completeAfterMs
        ? { status: "processing", since: task.createdAt + timings.processingAfterMs }
        : { status: parseMarkers(task.prompt).fail ? "failed" : "completed", since: task.createdAt + timings.completeAfterMs };
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
    view.videos = [{ url: `${task.baseUrl ?? "https://cdn.runapi.test"}/videos/${task.id}.mp4` }];
    const cost = task.forcedCostCents ?? parseMarkers(task.prompt).costCents;
    if (cost !== undefined) view.cost_cents = cost;
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

/** Key-order-independent JSON, so an idempotent retry with reordered fields still matches. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
