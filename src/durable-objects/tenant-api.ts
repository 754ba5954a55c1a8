import type { ReserveRequest, ReserveResult, ScopeState } from "../domain/ledger";
import type { TaskInit, TaskRecord, TaskView } from "../domain/task-record";
import type { TaskStatus } from "../domain/task-state";
import type { TaskViewer } from "../domain/tenant";

/** A create: the reservation and the task row, written together. `taskId` is `init.id`. */
export interface CreateTaskRequest extends ReserveRequest {
  init: TaskInit;
  /** Who is asking: the tasks a request may name as its source are the ones this caller may see. */
  viewer: TaskViewer;
  /** The tenant's claim on RunAPI's capacity (SPEC §14) and whether this create waits in the queue beyond its share. */
  capacity?: { weight: number; floor: number; queue: boolean };
}

/**
 * The answer to a create: held (call RunAPI now, with these task references as RunAPI's ids; or, `queued`, the
 * tenant's object sends it when its share frees), a replay, or refused.
 */
export type CreateTaskResult =
  | { ok: true; budgets: ScopeState[]; upstreamRefs: Record<string, string>; queued?: boolean }
  | { ok: false; code: "invalid_reference"; field: string }
  | { ok: false; code: "idempotent_replay"; view: TaskView; estimate_micros: number }
  | { ok: false; code: "idempotency_in_progress"; taskId?: string }
  | { ok: false; code: "failed" }
  | Exclude<ReserveResult, { ok: true } | { code: "idempotent_replay" }>;

/** A Worker gathering creates stops waiting for a call in flight after this long and makes its own (`TenantBatch`). */
export const STALE_CALL_MS = 5_000;
/**
 * The object holds nothing from a create call delivered later than this after it was sent: by then its
 * senders may have given up on it and told their clients nothing is held. Below STALE_CALL_MS, with room
 * for the clocks of two machines to differ.
 */
export const LATE_CALL_MS = 4_000;

/** A create RunAPI accepted: the proxy's task id and RunAPI's. */
export type Submission = { taskId: string; upstreamId: string };

/** A task after a change inside the object: the status it had, whether its status moved, and when its next work falls due. */
export type Changed = { task: TaskRecord; from: TaskStatus; moved: boolean; due: number | null };
