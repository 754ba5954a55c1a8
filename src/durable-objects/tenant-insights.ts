import { microsToUsd } from "../domain/money";
import { upgradeRecord, type StoredRecord, type TaskRecord } from "../domain/task-record";

const DAY_MS = 86_400_000;

/** One key's or end user's use of the tenant in a window: requests reserved, tasks among them, money charged and held. */
export interface UsageRow {
  subject: string;
  requests: number;
  tasks: number;
  charged_usd: number;
  reserved_usd: number;
  last_at: string;
}

/** A task whose webhook or archive copy is failing or failed (what the operator needs to act on, never a URL's path or query). */
export interface TaskFailure {
  task_id: string;
  key_id: string;
  model: string;
  status: string;
  updated_at: string;
  webhook: { state: string; attempts: number; last_status: number | null; last_error: string | null; host: string | null } | null;
  archive: { failed: number; retrying: number; last_error: string | null } | null;
}

/** A budget alert whose delivery failed or is being retried. */
export interface AlertFailure {
  scope: string;
  subject: string;
  period: string;
  threshold_percent: number;
  state: string;
  attempts: number;
  last_status: number | null;
  created_at: string;
}

type UsageSql = { subject: string; requests: number; tasks: number; charged: number; reserved: number; last_at: number };

/** Read-only views of a tenant's object for the operator's console and metrics; synchronous SQL over its own tables. */
export class TenantInsights {
  constructor(private readonly sql: SqlStorage) {}

  /** Use per key or per end user over reservations made in [from, to), the biggest spenders first. */
  usageBy(opts: { by: "key" | "end_user"; from: number; to: number; limit: number }): UsageRow[] {
    const column = opts.by === "key" ? "key_id" : "end_user";
    const rows = this.sql
      .exec<UsageSql>(
        `SELECT ${column} AS subject, COUNT(*) AS requests, SUM(kind = 'task') AS tasks,
           SUM(CASE WHEN state = 'settled' THEN charged_micros ELSE 0 END) AS charged,
           SUM(CASE WHEN state = 'open' THEN amount_micros ELSE 0 END) AS reserved, MAX(created_at) AS last_at
         FROM reservations WHERE created_at >= ? AND created_at < ? AND ${column} IS NOT NULL
         GROUP BY ${column} ORDER BY charged DESC, requests DESC, subject LIMIT ?`,
        opts.from,
        opts.to,
        Math.min(Math.max(Math.trunc(opts.limit) || 1, 1), 1000),
      )
      .toArray();
    return rows.map((r) => ({
      subject: r.subject,
      requests: r.requests,
      tasks: r.tasks,
      charged_usd: microsToUsd(r.charged),
      reserved_usd: microsToUsd(r.reserved),
      last_at: new Date(r.last_at).toISOString(),
    }));
  }

  /** Tasks whose webhook delivery failed (or is being retried after a failure) or whose archive copy failed, newest change first; and failing budget alerts. */
  failures(limit: number): { tasks: TaskFailure[]; alerts: AlertFailure[] } {
    const n = Math.min(Math.max(Math.trunc(limit) || 1, 1), 200);
    const records = this.sql
      .exec<{ record: string }>(
        `SELECT record FROM tasks WHERE record IS NOT NULL AND (
           json_extract(record, '$.webhook.state') = 'failed'
           OR (json_extract(record, '$.webhook.state') = 'pending' AND json_array_length(record, '$.webhook.deliveries') > 0)
           OR EXISTS (SELECT 1 FROM json_each(record, '$.archive.files') WHERE json_extract(value, '$.error') IS NOT NULL)
           OR EXISTS (SELECT 1 FROM json_each(record, '$.archive.videos') WHERE json_extract(value, '$.error') IS NOT NULL))
         ORDER BY updated_at DESC LIMIT ?`,
        n,
      )
      .toArray();
    const alerts = this.sql
      .exec<{
        scope: string;
        subject: string;
        period: string;
        threshold: number;
        state: string;
        attempts: number;
        last_status: number | null;
        created_at: number;
      }>(
        `SELECT scope, subject, period, threshold, state, attempts, last_status, created_at FROM alerts
         WHERE state = 'failed' OR (state = 'pending' AND attempts > 0) ORDER BY created_at DESC LIMIT ?`,
        n,
      )
      .toArray();
    return {
      tasks: records.map((r) => taskFailure(upgradeRecord(JSON.parse(r.record) as StoredRecord))),
      alerts: alerts.map((a) => ({
        scope: a.scope,
        subject: a.subject,
        period: a.period,
        threshold_percent: a.threshold,
        state: a.state,
        attempts: a.attempts,
        last_status: a.last_status,
        created_at: new Date(a.created_at).toISOString(),
      })),
    };
  }

  /** Tasks created per UTC day for `days` days from `from` (chat completions are not tasks). */
  tasksPerDay(from: number, days: number): number[] {
    const counts = new Array<number>(days).fill(0);
    const rows = this.sql
      .exec<{ day: number; n: number }>(
        "SELECT CAST((created_at - ?) / ? AS INTEGER) AS day, COUNT(*) AS n FROM tasks WHERE created_at >= ? GROUP BY day",
        from,
        DAY_MS,
        from,
      )
      .toArray();
    for (const r of rows) if (r.day >= 0 && r.day < days) counts[r.day] = r.n;
    return counts;
  }

  /** Tasks not yet completed or failed (their reservations are open). */
  unfinishedTasks(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM reservations WHERE state = 'open' AND kind = 'task'").one().n;
  }
}

function taskFailure(t: TaskRecord): TaskFailure {
  const deliveries = t.webhook.deliveries;
  const last = deliveries[deliveries.length - 1];
  const webhookFailing = t.webhook.state === "failed" || (t.webhook.state === "pending" && deliveries.length > 0);
  const files = t.archive?.files ?? [];
  const failed = files.filter((v) => v.state === "failed").length;
  const retrying = files.filter((v) => v.state === "pending" && v.error !== null).length;
  return {
    task_id: t.id,
    key_id: t.key_id,
    model: t.model,
    status: t.status,
    updated_at: new Date(t.updated_at).toISOString(),
    webhook: webhookFailing
      ? { state: t.webhook.state, attempts: deliveries.length, last_status: last?.status ?? null, last_error: last?.error ?? null, host: hostOf(t.notify_url) }
      : null,
    archive: failed || retrying ? { failed, retrying, last_error: files.find((v) => v.error !== null)?.error ?? null } : null,
  };
}

function hostOf(url: string | null): string | null {
  try {
    return url ? new URL(url).host : null;
  } catch {
    return null;
  }
}
