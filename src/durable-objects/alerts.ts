import { webhookRetryDelayMs } from "../domain/task-state";
import { sha256Hex } from "../lib/crypto";
import type { Bindings } from "../env";
import { postSignedWebhook, type Attempt } from "./task-webhook";

type AlertRow = {
  scope: string;
  subject: string;
  period: string;
  window_start: number;
  threshold: number;
  body: string;
  attempts: number;
  next_at: number | null;
  state: "pending" | "delivered" | "failed";
};

/** The alarm's queries of this outbox, named for the query-plan test. */
export const ALERT_SQL = {
  due: "SELECT * FROM alerts WHERE state = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?",
  nextDue: "SELECT MIN(next_at) AS t FROM alerts WHERE state = 'pending' AND next_at IS NOT NULL",
} as const;

/** The tenant's budget alerts waiting to be delivered (rows written by `LedgerStore.hold`), and what became of each. Synchronous. */
export class AlertOutbox {
  constructor(private readonly sql: SqlStorage) {}

  /** Alerts due at `now`, oldest first. */
  due(now: number, limit: number): AlertRow[] {
    return this.sql.exec<AlertRow>(ALERT_SQL.due, now, limit).toArray();
  }

  /** When the next pending alert falls due, or null. */
  nextDue(): number | null {
    return this.sql.exec<{ t: number | null }>(ALERT_SQL.nextDue).one().t;
  }

  /** Records one delivery attempt: delivered on 2xx, else retried on the webhook schedule, then failed. */
  record(row: AlertRow, attempt: Attempt | null, now: number): void {
    const attempts = row.attempts + 1;
    const ok = attempt?.status != null && attempt.status >= 200 && attempt.status < 300;
    const delay = ok || attempt === null ? null : webhookRetryDelayMs(attempts);
    const state = ok ? "delivered" : delay === null ? "failed" : "pending";
    this.sql.exec(
      "UPDATE alerts SET state = ?, attempts = ?, next_at = ?, last_status = ? WHERE scope = ? AND subject = ? AND period = ? AND window_start = ? AND threshold = ?",
      state,
      attempts,
      delay === null ? null : now + delay,
      attempt?.status ?? null,
      row.scope,
      row.subject,
      row.period,
      row.window_start,
      row.threshold,
    );
  }
}

/** A stable Standard Webhooks message id for one alert (retries share it, so receivers can dedupe). */
export async function alertMessageId(row: AlertRow): Promise<string> {
  const hash = await sha256Hex(`${row.scope}|${row.subject}|${row.period}|${row.window_start}|${row.threshold}`);
  return `msg_budget_${hash.slice(0, 32)}`;
}

/** Sends the budget alerts due at `now` to the tenant's webhook, signed; each is retried on the webhook schedule. */
export async function deliverDueAlerts(env: Bindings, outbox: AlertOutbox, now: number, clock: () => number): Promise<void> {
  const due = outbox.due(now, 20);
  if (!due.length) return;
  const tenantId = (JSON.parse(due[0]!.body) as { tenant_id: string }).tenant_id;
  const tenant = await env.TENANTS.get<{ webhook_url: string | null; webhook_secret: string | null }>(`tenant:${tenantId}`, "json");
  const url = tenant?.webhook_url ?? null;
  const secret = tenant?.webhook_secret ?? null;
  await Promise.all(
    due.map(async (row) => {
      const attempt = url && secret ? await postSignedWebhook(url, secret, await alertMessageId(row), row.body, clock()) : null;
      outbox.record(row, attempt, clock());
    }),
  );
}

export type { AlertRow };
