import { DurableObject } from "cloudflare:workers";
import type { Sample } from "../domain/prometheus";
import type { Bindings } from "../env";

/** Distinct series the object keeps; past it new series are dropped (labels are bounded, so this is a guard). */
const MAX_SERIES = 20_000;

/**
 * The deployment's counters, one object for all isolates: each isolate adds what it counted since its
 * last flush (a few seconds' worth, in one call), and a scrape reads the totals. Counters only ever grow.
 */
export class ProxyMetrics extends DurableObject<Bindings> {
  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS series (name TEXT NOT NULL, labels TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (name, labels)) WITHOUT ROWID",
    );
  }

  /** Adds increments to their series, in one transaction. Returns how many new series were refused. */
  add(increments: Sample[]): number {
    const sql = this.ctx.storage.sql;
    return this.ctx.storage.transactionSync(() => {
      let count = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM series").one().n;
      let dropped = 0;
      for (const s of increments) {
        if (!Number.isFinite(s.value) || s.value < 0) continue;
        const updated = sql.exec("UPDATE series SET value = value + ? WHERE name = ? AND labels = ?", s.value, s.name, s.labels).rowsWritten;
        if (updated) continue;
        if (count >= MAX_SERIES) {
          dropped += 1;
          continue;
        }
        sql.exec("INSERT INTO series (name, labels, value) VALUES (?, ?, ?)", s.name, s.labels, s.value);
        count += 1;
      }
      return dropped;
    });
  }

  /** Every series' total. */
  read(): Sample[] {
    return this.ctx.storage.sql.exec<{ name: string; labels: string; value: number }>("SELECT name, labels, value FROM series").toArray();
  }
}
