import type { Micros } from "./money";
import { TASK_STATUSES, type TaskStatus } from "./task-state";

/** Length of the requests-per-minute window (fixed windows aligned to the minute). */
export const RPM_WINDOW_MS = 60_000;
/** How long an Idempotency-Key is remembered (SPEC §3: 24 h). */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** Retry-After for `max_concurrent_tasks`: tasks end at unknown times, so ask for a short wait. */
export const CONCURRENCY_RETRY_AFTER_SECONDS = 5;
/** How long after a task's TTL a still-open reservation is reconciled by the sweep. */
export const SWEEP_GRACE_MS = 5 * 60_000;
/** When the sweep could not reconcile a reservation (task still live, or its object unreachable): try again after. */
export const SWEEP_RETRY_MS = 5 * 60_000;

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

/** The `rpm` row that counts one end user's requests with one key (beside the key's own row, named by its id). */
export function endUserRpmKey(keyId: string, endUser: string): string {
  return `eu|${keyId}|${endUser}`;
}

/**
 * Whether one more request of this end user fits the key's `end_user_requests_per_minute`: null when
 * no such limit applies (no limit, or no end user), else `rpmDecision` on the end user's own row.
 */
export function endUserRpmDecision(
  row: RpmWindow | null,
  req: { endUser: string | null; endUserRequestsPerMinute?: number | null },
  now: number,
): ReturnType<typeof rpmDecision> | null {
  if (req.endUser === null || req.endUserRequestsPerMinute == null) return null;
  return rpmDecision(row, req.endUserRequestsPerMinute, now);
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
): { kind: "new" } | { kind: "replay"; taskId: string } | { kind: "conflict" } {
  if (!row || row.created_at <= now - IDEMPOTENCY_TTL_MS) return { kind: "new" };
  return row.body_hash === bodyHash ? { kind: "replay", taskId: row.task_id } : { kind: "conflict" };
}

/** What a task's object says about its money, as `VideoTask.settlementState()` answers (null: no such task). */
export interface SettlementState {
  status: TaskStatus;
  charge_micros: number | null;
}

/** A task's answer checked: null stays null (no such task); anything malformed throws, which the sweep treats as "ask again later". */
export function parseSettlementState(answer: unknown): SettlementState | null {
  if (answer === null) return null;
  const s = answer as Partial<SettlementState> | undefined;
  const charge = s?.charge_micros;
  if (typeof s !== "object" || !TASK_STATUSES.includes(s.status as TaskStatus) || (charge !== null && typeof charge !== "number")) {
    throw new TypeError("malformed settlement state");
  }
  return { status: s.status as TaskStatus, charge_micros: charge };
}

/**
 * When the sweep runs next (wall clock): null when no reservation is open; soon when a batch was
 * full; else when the oldest open reservation goes stale, but never sooner than SWEEP_RETRY_MS.
 */
export function nextSweepAt(oldestOpenCreatedAt: number | null, ttlMs: number, batchWasFull: boolean, now: number): number | null {
  if (oldestOpenCreatedAt === null) return null;
  if (batchWasFull) return now + 1000;
  return Math.max(oldestOpenCreatedAt + ttlMs + SWEEP_GRACE_MS, now + SWEEP_RETRY_MS);
}

/** What the sweep does with a stale open reservation, given its task's answer. */
export type SweepAction = { kind: "settle"; chargeMicros: Micros } | { kind: "release"; reason: string } | { kind: "keep" };

/**
 * completed → settle at the reported charge (else the reservation); failed/expired → release;
 * null (the task's object has no such task) → release; pending/processing → keep for the next sweep.
 * A failed call is not an answer: the caller keeps the reservation without asking this.
 */
export function sweepAction(state: SettlementState | null, reservedMicros: Micros): SweepAction {
  if (state === null) return { kind: "release", reason: "sweep: task unknown" };
  switch (state.status) {
    case "completed": {
      const charge = state.charge_micros;
      const valid = charge !== null && Number.isSafeInteger(charge) && charge >= 0;
      return { kind: "settle", chargeMicros: valid ? charge : reservedMicros };
    }
    case "failed":
    case "expired":
      return { kind: "release", reason: `sweep: task ${state.status}` };
    default:
      return { kind: "keep" };
  }
}

/** One page of the tenant's task index, newest first. */
export interface TaskPage {
  tasks: { id: string; status: string; model: string; key_id: string; created_at: string }[];
  next_cursor: string | null;
}

/** Position in a newest-first task listing. */
export interface TaskCursor {
  created_at: number;
  task_id: string;
}

/** An opaque cursor for the next page of a task listing. */
export function encodeCursor(c: TaskCursor): string {
  return btoa(JSON.stringify([c.created_at, c.task_id])).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
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
