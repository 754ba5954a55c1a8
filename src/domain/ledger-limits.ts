/** Length of the requests-per-minute window (fixed windows aligned to the minute). */
export const RPM_WINDOW_MS = 60_000;
/** How long an Idempotency-Key is remembered (SPEC §3: 24 h). */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/**
 * A key the proxy derives for a create sent without an Idempotency-Key lives this long: long enough for a client
 * told "could not be confirmed" to retry, short enough that a deliberate repeat later makes a new task (SPEC §13).
 */
export const DERIVED_KEY_TTL_MS = 10 * 60_000;
/**
 * A retry with a derived key replays only a create at least this old whose outcome the Worker never reported: an
 * identical request sent at the same moment is a second request, not a retry (a retry follows `Retry-After: 1`).
 */
export const DERIVED_REPLAY_MIN_AGE_MS = 750;
/** Retry-After for `max_concurrent_tasks`: tasks end at unknown times, so ask for a short wait. */
export const CONCURRENCY_RETRY_AFTER_SECONDS = 5;

/** A key's counter in the current requests-per-minute window. */
export type RpmWindow = {
  window_start: number;
  count: number;
};

/** Whether one more request fits the key's per-minute limit; `next` is the counter to store if it is made. */
export function rpmDecision(
  row: RpmWindow | null,
  limit: number | null,
  now: number,
): { ok: true; next: RpmWindow } | { ok: false; retryAfterSeconds: number } {
  const windowStart = Math.floor(now / RPM_WINDOW_MS) * RPM_WINDOW_MS;
  const count = row && row.window_start === windowStart ? row.count : 0;
  if (limit !== null && count >= limit) {
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((windowStart + RPM_WINDOW_MS - now) / 1000)) };
  }
  return { ok: true, next: { window_start: windowStart, count: count + 1 } };
}

/** Whether one more unfinished task fits `max_concurrent_tasks`. */
export function concurrencyFits(openTasks: number, limit: number | null): boolean {
  return limit === null || openTasks < limit;
}

/** A stored Idempotency-Key. */
export type IdempotencyRecord = {
  body_hash: string;
  task_id: string;
  created_at: number;
};

/** What an Idempotency-Key means for a new request: new, a replay of an earlier task, or a conflict. */
export function idempotencyDecision(
  row: IdempotencyRecord | null,
  bodyHash: string,
  now: number,
  ttlMs = IDEMPOTENCY_TTL_MS,
): { kind: "new" } | { kind: "replay"; taskId: string } | { kind: "conflict" } {
  if (!row || row.created_at <= now - ttlMs) return { kind: "new" };
  return row.body_hash === bodyHash ? { kind: "replay", taskId: row.task_id } : { kind: "conflict" };
}

/** One page of the tenant's task index, newest first. */
export interface TaskPage {
  /** `error_code`: why a failed task failed, as its own read says. */
  tasks: { id: string; status: string; model: string; key_id: string; created_at: string; error_code?: string }[];
  next_cursor: string | null;
}

/** Position in a newest-first task listing. */
export interface TaskCursor {
  created_at: number;
  task_id: string;
}

/** An opaque cursor for the next page of a task listing. */
export function encodeCursor(c: TaskCursor): string {
  return btoa(JSON.stringify([c.created_at, c.task_id]))
    .replace(/=+$/, "")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
}

/** The position an opaque cursor stands for, or null when it is not one of ours. */
export function decodeCursor(cursor: string): TaskCursor | null {
  try {
    const b64 = cursor.replace(/-/g, "+").replace(/_/g, "/");
    const parsed: unknown = JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)));
    if (!Array.isArray(parsed) || parsed.length !== 2) return null;
    const [createdAt, taskId] = parsed as unknown[];
    if (!Number.isSafeInteger(createdAt) || typeof taskId !== "string") return null;
    return { created_at: createdAt as number, task_id: taskId };
  } catch {
    return null;
  }
}
