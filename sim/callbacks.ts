import type { SimConfig } from "./env";
import { isTerminal, taskView } from "./progress";
import { DELIVERY_ATTEMPTS, RETRY_DELAY_MS, toCallback, toRecord, type CallbackRow, type SimCallback, type TaskRow } from "./task-rows";

/**
 * Terminal tasks' callbacks, in the simulator object's SQLite: emitted once per task when it ends (by time or
 * by a forced move), then POSTed to its `callback_url` by the alarm (fetch mode) or kept for tests to take (outbox).
 */
export class CallbackQueue {
  constructor(
    private readonly sql: SqlStorage,
    private readonly config: SimConfig,
    private readonly setAlarm: (at: number) => void,
  ) {}

  /** Callbacks emitted so far (optionally for one task), oldest first; `take` removes them. */
  outbox(taskId: string | null, take: boolean, now: number): SimCallback[] {
    this.emitDue(now);
    const where = "WHERE (?1 IS NULL OR task_id = ?1)";
    const rows = this.sql.exec<CallbackRow>(`SELECT * FROM callbacks ${where} ORDER BY seq`, taskId).toArray();
    if (take) this.sql.exec(`DELETE FROM callbacks ${where} AND seq <= ?2`, taskId, rows.at(-1)?.seq ?? 0);
    return rows.map(toCallback);
  }

  /** Emits callbacks that came due by time, then delivers pending ones (fetch mode), retrying a failed POST. */
  async deliverDue(): Promise<void> {
    this.emitDue(Date.now());
    const due = this.sql.exec<CallbackRow>("SELECT * FROM callbacks WHERE state = 'pending' AND next_at <= ? ORDER BY seq", Date.now()).toArray();
    for (const cb of due) {
      const res = await fetch(cb.url, { method: "POST", headers: { "content-type": "application/json" }, body: cb.body }).catch(() => null);
      if (res) await res.body?.cancel();
      const attempts = cb.attempts + 1;
      const state = res?.ok ? "delivered" : attempts >= DELIVERY_ATTEMPTS ? "failed" : "pending";
      const nextAt = Date.now() + (RETRY_DELAY_MS[attempts - 1] ?? 0);
      this.sql.exec("UPDATE callbacks SET state = ?, attempts = ?, next_at = ? WHERE seq = ?", state, attempts, nextAt, cb.seq);
    }
    this.schedule();
  }

  /** Marks every task that reached a terminal state (and wants a callback) as emitted, and queues its callback. */
  emitDue(now: number): void {
    const horizon = now - this.config.completeAfterMs;
    const rows = this.sql
      .exec<TaskRow>(
        `SELECT * FROM tasks WHERE callback_emitted = 0 AND wants_callback = 1
       AND (forced_status IN ('completed', 'failed') OR created_at <= ?)`,
        horizon,
      )
      .toArray();
    const mode = this.config.callbackMode;
    for (const row of rows) {
      const record = toRecord(row);
      const view = taskView(record, now, this.config);
      if (!isTerminal(view.status) || record.callbackUrl === null) continue;
      this.sql.exec("UPDATE tasks SET callback_emitted = 1 WHERE id = ?", record.id);
      this.sql.exec(
        "INSERT INTO callbacks (task_id, url, body, at, state, next_at) VALUES (?, ?, ?, ?, ?, ?)",
        record.id,
        record.callbackUrl,
        JSON.stringify(view),
        new Date(now).toISOString(),
        mode === "outbox" ? "outbox" : "pending",
        now,
      );
    }
    if (rows.length > 0 && mode === "fetch") this.schedule();
  }

  /** Sets the alarm to the next natural completion or delivery retry, whichever is first. */
  schedule(): void {
    const next = this.sql
      .exec<{ at: number | null }>(
        `SELECT MIN(at) AS at FROM (
         SELECT MIN(next_at) AS at FROM callbacks WHERE state = 'pending'
         UNION ALL SELECT MIN(created_at) + ? AS at FROM tasks
           WHERE callback_emitted = 0 AND wants_callback = 1 AND (forced_status IS NULL OR forced_status = 'processing'))`,
        this.config.completeAfterMs,
      )
      .one().at;
    if (next !== null) this.setAlarm(Math.max(next, Date.now()));
  }
}
