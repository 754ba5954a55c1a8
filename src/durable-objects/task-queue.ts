import type { Lease } from "../domain/capacity-lease";

/** What the tenant's object keeps of its lease across restarts: the lease, what the coordinator believes it holds, its settings. */
export interface StoredLease {
  lease: Lease;
  /** What the coordinator last granted (it counts this as held until the object reports less). */
  reported: { slots: number; rate: number };
  weight: number;
  floor: number;
}

/**
 * The tenant's queue and its lease in SQLite (SPEC §14). Queued tasks are rows of the task table with status
 * `queued`, oldest first (the order they start in); the lease is one row. Synchronous.
 */
export class TaskQueue {
  constructor(private readonly sql: SqlStorage) {}

  /** Tasks RunAPI may be running (pending, processing) and tasks waiting in the queue. */
  counts(): { active: number; queued: number } {
    const rows = this.sql
      .exec<{ status: string; n: number }>(
        "SELECT status, COUNT(*) AS n FROM tasks WHERE status IN ('queued', 'pending', 'processing') AND record IS NOT NULL GROUP BY status",
      )
      .toArray();
    const of = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
    return { active: of("pending") + of("processing"), queued: of("queued") };
  }

  /** The ids of the `limit` oldest queued tasks: the next to start. */
  oldest(limit: number): string[] {
    if (limit <= 0) return [];
    return this.sql
      .exec<{ task_id: string }>("SELECT task_id FROM tasks WHERE status = 'queued' ORDER BY created_at, task_id LIMIT ?", limit)
      .toArray()
      .map((r) => r.task_id);
  }

  /** The stored lease, or null before the first one. */
  loadLease(): StoredLease | null {
    const row = this.sql.exec<{ state: string }>("SELECT state FROM capacity_lease WHERE id = 1").toArray()[0];
    return row ? (JSON.parse(row.state) as StoredLease) : null;
  }

  saveLease(state: StoredLease): void {
    this.sql.exec("INSERT INTO capacity_lease (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state", JSON.stringify(state));
  }
}
