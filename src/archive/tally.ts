/** Per-tenant archive usage, kept in the tenant object's SQLite: one row per stored file, of any modality (the table kept its first name). */

const SCHEMA = `CREATE TABLE IF NOT EXISTS archived_videos (task_id TEXT NOT NULL, idx INTEGER NOT NULL, bytes INTEGER NOT NULL,
  stored_at INTEGER NOT NULL, PRIMARY KEY (task_id, idx)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS archived_videos_age ON archived_videos (stored_at);`;

/** Archive usage as `/me` and the operator's usage show it (`video_storage`, named when only videos were archived). */
export interface VideoStorage {
  /** Files stored, of every modality. */
  videos: number;
  bytes: number;
  retention_days: number;
}

/** Creates the table (idempotent); call from the object's blockConcurrencyWhile. */
export function ensureArchiveTally(sql: SqlStorage): void {
  sql.exec(SCHEMA);
}

/** Records a stored file (a repeated copy of the same one replaces its row). */
export function tallyStored(sql: SqlStorage, row: { taskId: string; index: number; bytes: number; storedAt: number }): void {
  sql.exec("INSERT OR REPLACE INTO archived_videos (task_id, idx, bytes, stored_at) VALUES (?, ?, ?, ?)", row.taskId, row.index, row.bytes, row.storedAt);
}

/**
 * What the tenant has stored at `now`: files within retention. Rows past it are forgotten here,
 * as the retention sweep deletes their objects.
 */
export function archiveUsage(sql: SqlStorage, now: number, retentionMs: number): VideoStorage {
  const cutoff = now - retentionMs;
  sql.exec("DELETE FROM archived_videos WHERE stored_at <= ?", cutoff);
  const row = sql.exec<{ n: number; bytes: number | null }>("SELECT COUNT(*) AS n, SUM(bytes) AS bytes FROM archived_videos").one();
  return { videos: row.n, bytes: row.bytes ?? 0, retention_days: Math.round(retentionMs / 86_400_000) };
}
