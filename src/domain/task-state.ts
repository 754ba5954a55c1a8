/** Task status values (SPEC §3): RunAPI's four plus the proxy's own `expired`. */
export type TaskStatus = "pending" | "processing" | "completed" | "failed" | "expired";
export const TASK_STATUSES: readonly TaskStatus[] = ["pending", "processing", "completed", "failed", "expired"];

/** Where a status change came from. */
export type TransitionSource = "create" | "callback" | "poll" | "ttl" | "submit";

const RANK: Record<TaskStatus, number> = { pending: 0, processing: 1, completed: 2, failed: 2, expired: 2 };

/** True once a task can no longer change. */
export function isTerminal(status: TaskStatus): boolean {
  return RANK[status] === 2;
}

/**
 * Whether `next` moves a task in `current` forward. States only move forward:
 * the same or an older state is a no-op, and nothing leaves a terminal state.
 */
export function canTransition(current: TaskStatus, next: TaskStatus): boolean {
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
