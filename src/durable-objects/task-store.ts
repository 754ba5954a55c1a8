import { decodeCursor, encodeCursor, type TaskPage } from "../domain/ledger-limits";
import { nextDueAt, upgradeRecord, type TaskRecord, type TaskTiming } from "../domain/task-record";
import { canView, type TaskViewer } from "../domain/tenant";

type TaskRow = { task_id: string; key_id: string; model: string; status: string; created_at: number; error_code: string | null };

/** The hot queries of this store (the alarm's and every task read's), named for the query-plan test. */
export const TASK_SQL = {
  get: "SELECT record, status, next_due_at FROM tasks WHERE task_id = ?",
  due: "SELECT task_id FROM tasks WHERE next_due_at <= ? ORDER BY next_due_at LIMIT ?",
  nextDue: "SELECT MIN(next_due_at) AS t FROM tasks WHERE next_due_at IS NOT NULL",
  archived: "SELECT object, tenant_id, key_id, end_user, upstream_id FROM archived_tasks WHERE task_id = ?",
} as const;

/** Where a task's record went when it moved out (LedgerHistory), with what a reference to it needs. */
export type ArchivedTask = { object: string; tenant_id: string; key_id: string; end_user: string | null; upstream_id: string | null };

/** A tenant's tasks in SQLite: one row per task with its whole record and the time its next work falls due. Synchronous. */
export class TaskStore {
  /** The indexed columns of each record read, as stored, so `save` sets only those that changed. */
  private readonly loaded = new WeakMap<TaskRecord, { status: string; due: number | null }>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly timing: () => TaskTiming,
  ) {}

  insert(task: TaskRecord): void {
    this.sql.exec(
      "INSERT INTO tasks (task_id, key_id, end_user, model, status, created_at, updated_at, record, next_due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      task.id,
      task.key_id,
      task.end_user,
      task.model,
      task.status,
      task.created_at,
      task.updated_at,
      JSON.stringify(task),
      nextDueAt(task, this.timing()),
    );
  }

  get(taskId: string): TaskRecord | undefined {
    const row = this.sql.exec<{ record: string | null; status: string; next_due_at: number | null }>(TASK_SQL.get, taskId).toArray()[0];
    if (!row?.record) return undefined;
    const task = upgradeRecord(JSON.parse(row.record) as TaskRecord);
    this.loaded.set(task, { status: row.status, due: row.next_due_at });
    return task;
  }

  /** The caller's earlier tasks a request names (`source_task_id`, …), as RunAPI's ids; another's or an unknown task is refused. */
  references(
    references: Record<string, string>,
    viewer: TaskViewer,
  ): { ok: true; upstreamRefs: Record<string, string> } | { ok: false; code: "invalid_reference"; field: string } {
    const upstreamRefs: Record<string, string> = {};
    for (const [field, taskId] of Object.entries(references)) {
      // A task whose record moved out to the archive keeps what a reference needs here.
      const task = this.get(taskId) ?? this.sql.exec<ArchivedTask>(TASK_SQL.archived, taskId).toArray()[0];
      if (!task || !canView(viewer, task) || !task.upstream_id) return { ok: false, code: "invalid_reference", field };
      upstreamRefs[field] = task.upstream_id;
    }
    return { ok: true, upstreamRefs };
  }

  /** Writes the record back; returns when its next work falls due. Only the indexed columns that changed are set (each costs a row written). */
  save(task: TaskRecord): number | null {
    const due = nextDueAt(task, this.timing());
    const was = this.loaded.get(task);
    const sets = ["updated_at = ?", "record = ?"];
    const args: SqlStorageValue[] = [task.updated_at, JSON.stringify(task)];
    if (was?.status !== task.status) sets.push("status = ?") && args.push(task.status);
    if (was === undefined || was.due !== due) sets.push("next_due_at = ?") && args.push(due);
    this.sql.exec(`UPDATE tasks SET ${sets.join(", ")} WHERE task_id = ?`, ...args, task.id);
    this.loaded.set(task, { status: task.status, due });
    return due;
  }

  /** Tasks whose reservation is not open exactly while they are unfinished (for the ledger audit). */
  reservationMismatches(): { task_id: string; state: string; status: string }[] {
    return this.sql
      .exec<{ task_id: string; state: string; status: string }>(
        `SELECT r.task_id, r.state, t.status FROM reservations r JOIN tasks t ON t.task_id = r.task_id
         WHERE r.kind = 'task' AND t.record IS NOT NULL AND (r.state = 'open') != (t.status IN ('queued', 'pending', 'processing'))`,
      )
      .toArray();
  }

  /** Ids of tasks whose work is due at `now`, most overdue first. */
  due(now: number, limit: number): string[] {
    return this.sql
      .exec<{ task_id: string }>(TASK_SQL.due, now, limit)
      .toArray()
      .map((r) => r.task_id);
  }

  /** When the earliest task work falls due, or null (the first entry of the partial index, not a scan of every task). */
  nextDue(): number | null {
    return this.sql.exec<{ t: number | null }>(TASK_SQL.nextDue).one().t;
  }

  /** The tenant's tasks, newest first, optionally of one status, key or end user; `cursor` is the previous page's `next_cursor`. */
  list(opts: { status?: string; limit: number; cursor?: string; keyId?: string; endUser?: string | null }): TaskPage {
    const limit = Math.min(Math.max(Math.trunc(opts.limit) || 1, 1), 1000);
    const after = opts.cursor ? decodeCursor(opts.cursor) : null;
    if (opts.cursor && !after) throw new RangeError("invalid cursor");
    const where: string[] = [];
    const args: (string | number)[] = [];
    const and = (clause: string, ...values: (string | number)[]) => {
      where.push(clause);
      args.push(...values);
    };
    if (opts.status) and("status = ?", opts.status);
    if (opts.keyId !== undefined) and("key_id = ?", opts.keyId);
    if (opts.endUser === null) and("end_user IS NULL");
    else if (opts.endUser !== undefined) and("end_user = ?", opts.endUser);
    if (after) and("(created_at < ? OR (created_at = ? AND task_id < ?))", after.created_at, after.created_at, after.task_id);
    // Why a failed task failed, read from its record for failed rows only (the others' records stay unparsed).
    const sql = `SELECT task_id, key_id, model, status, created_at,
        CASE WHEN status = 'failed' THEN json_extract(record, '$.error.code') END AS error_code
      FROM tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY created_at DESC, task_id DESC LIMIT ?`;
    const rows = this.sql.exec<TaskRow>(sql, ...args, limit + 1).toArray();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      tasks: page.map((t) => ({
        id: t.task_id,
        status: t.status,
        model: t.model,
        key_id: t.key_id,
        created_at: new Date(t.created_at).toISOString(),
        ...(t.error_code ? { error_code: t.error_code } : {}),
      })),
      next_cursor: rows.length > limit && last ? encodeCursor({ created_at: last.created_at, task_id: last.task_id }) : null,
    };
  }
}
