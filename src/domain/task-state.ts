/**
 * Task status values (SPEC §3): RunAPI's four, and the proxy's own `queued` (SPEC §14: held, waiting for
 * its tenant's share of RunAPI's capacity, not yet sent). A task the proxy gave up on (no terminal state
 * within its lifetime) is `failed` with `error_code: "task_expired"`, because RunAPI's SDKs and MCP tools
 * stop polling only on `completed` and `failed` (so `queued` reads as in progress to them).
 */
export type TaskStatus = "queued" | "pending" | "processing" | "completed" | "failed";
export const TASK_STATUSES: readonly TaskStatus[] = ["queued", "pending", "processing", "completed", "failed"];
/** The statuses of a task that is not finished (its reservation is open). */
export const UNFINISHED_STATUSES: readonly TaskStatus[] = ["queued", "pending", "processing"];

/** Task ids (the proxy's and RunAPI's) are UUIDs; official clients reject other shapes. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Where a status change came from. */
export type TransitionSource = "create" | "callback" | "poll" | "ttl" | "submit" | "reconcile" | "queue";

const RANK: Record<TaskStatus, number> = { queued: 0, pending: 1, processing: 2, completed: 3, failed: 3 };

/** True once a task can no longer change. */
export function isTerminal(status: TaskStatus): boolean {
  return RANK[status] === 3;
}

/**
 * Whether `next` moves a task in `current` forward. States only move forward:
 * the same or an older state is a no-op, and nothing leaves a terminal state.
 */
export function canTransition(current: TaskStatus, next: TaskStatus): boolean {
  // A queued task was never sent: it starts (pending) or ends (failed: expired, refused), never jumps to processing or completed.
  if (current === "queued") return next === "pending" || next === "failed";
  return !isTerminal(current) && RANK[next] > RANK[current];
}

/**
 * When to poll RunAPI next, `attempt` polls after the first one: the base interval
 * doubling each time, capped at 8× the base (so 15 s → 30 s → 1 min → 2 min → 2 min …).
 */
export function nextPollDelayMs(baseMs: number, attempt: number): number {
  return baseMs * 2 ** Math.min(Math.max(attempt, 0), 3);
}

/** Tenant webhook retry schedule after a failed attempt (SPEC §5): 5 s, 1 min, 10 min, 1 h, 6 h, then give up. */
export const WEBHOOK_RETRY_DELAYS_MS = [5_000, 60_000, 600_000, 3_600_000, 21_600_000] as const;

/** The delay before delivery attempt `attempt + 1`, or null when the attempts are used up. */
export function webhookRetryDelayMs(failedAttempts: number): number | null {
  return WEBHOOK_RETRY_DELAYS_MS[failedAttempts - 1] ?? null;
}

/** A burst of callbacks for one task costs at most one status GET per this long (SPEC §5). */
export const WAKE_MIN_GAP_MS = 3_000;

/**
 * When to re-send a create whose outcome is unknown, `attempt` re-sends after the first:
 * 5 s doubling to at most 5 min. RunAPI answers a re-send with the task it already made.
 */
export function reconcileDelayMs(attempt: number): number {
  return Math.min(5_000 * 2 ** Math.max(attempt, 0), 300_000);
}
