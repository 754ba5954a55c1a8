import type { LedgerEntry, Who } from "../domain/ledger";

/** An entry as stored. */
export type EntryRow = Omit<LedgerEntry, "at" | "booked_at"> & Who & { at: number; booked_at: number };

/** A page of entries: by `at` (or by `booked_at`, the budget window an entry counts in) in [`from`, `to`), after `afterId`. */
export type EntryQuery = { from?: number; to?: number; limit?: number; afterId?: number; by?: "at" | "booked_at" };
/** Charged (the tenant's price) and RunAPI's cost for one model. */
export type Margin = { model: string; requests: number; charged_micros: number; cost_micros: number };

/** A page's size: default 1000, at most 10 000. */
export function entryLimit(limit: number | undefined): number {
  return Math.min(Math.max(Math.trunc(limit ?? 1000), 1), 10_000);
}

/** An entry as the export shows it (the field order of the first export, kept so exports stay byte-identical). */
export function entryView(r: EntryRow): LedgerEntry {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    type: r.type,
    task_id: r.task_id,
    key_id: r.key_id,
    end_user: r.end_user,
    model: r.model,
    amount_micros: r.amount_micros,
    reserved_micros: r.reserved_micros,
    reason: r.reason,
    booked_at: new Date(r.booked_at).toISOString(),
    cost_micros: r.cost_micros,
  };
}

/** Up to `count` of the entries still here, in append order; see `TenantLedger.entries` (LedgerHistory adds those moved out). */
export function hotEntries(sql: SqlStorage, opts: EntryQuery, count: number): EntryRow[] {
  const column = opts.by === "booked_at" ? "booked_at" : "at";
  return sql
    .exec<EntryRow>(
      `SELECT * FROM entries WHERE ${column} >= ? AND ${column} < ? AND id > ? ORDER BY id LIMIT ?`,
      opts.from ?? 0,
      opts.to ?? Number.MAX_SAFE_INTEGER,
      opts.afterId ?? 0,
      count,
    )
    .toArray();
}

/** Charged and RunAPI's cost per model over the settled entries still here in `from` ≤ at < `to`. */
export function hotMargins(sql: SqlStorage, from: number, to: number): Margin[] {
  return sql
    .exec<Margin>(
      `SELECT COALESCE(model, '') AS model, COUNT(*) AS requests, SUM(amount_micros) AS charged_micros, SUM(COALESCE(cost_micros, amount_micros)) AS cost_micros
         FROM entries WHERE type = 'settle' AND at >= ? AND at < ? GROUP BY model ORDER BY model`,
      from,
      to,
    )
    .toArray();
}
