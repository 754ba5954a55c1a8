import type { ReserveRequest, ReserveResult, ScopeState } from "../domain/ledger";
import type { TaskInit, TaskRecord, TaskView } from "../domain/task-record";

/** A create: the reservation and the task row, written together. `taskId` is `init.id`. */
export interface CreateTaskRequest extends ReserveRequest {
  init: TaskInit;
}

/** The answer to a create: held (call RunAPI now), a replay of the task this Idempotency-Key made, or refused. */
export type CreateTaskResult =
  | { ok: true; budgets: ScopeState[] }
  | { ok: false; code: "idempotent_replay"; view: TaskView; estimate_micros: number }
  | { ok: false; code: "idempotency_in_progress"; taskId?: string }
  | { ok: false; code: "failed" }
  | Exclude<ReserveResult, { ok: true } | { code: "idempotent_replay" }>;

/** A create RunAPI accepted: the proxy's task id and RunAPI's. */
export type Submission = { taskId: string; upstreamId: string };

/** A task after a change inside the object: whether its status moved, and when its next work falls due. */
export type Changed = { task: TaskRecord; moved: boolean; due: number | null };
