import type { CatalogAction } from "../src/catalog/catalog";
import { priceOf, type Price } from "./pricing";
import { applyPatch, bundledSchedule, findEntry, type SchedulePatch, type SimSchedule } from "./schedule";

/** The simulator object's price schedule: one stored document (the bundled one until a test changes it). */
export class PriceStore {
  private cached: SimSchedule | null = null;

  constructor(private readonly sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS schedule (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL)");
  }

  /** The schedule now. */
  doc(): SimSchedule {
    if (!this.cached) {
      const row = this.sql.exec<{ doc: string }>("SELECT doc FROM schedule WHERE id = 1").toArray()[0];
      this.cached = row ? (JSON.parse(row.doc) as SimSchedule) : bundledSchedule();
    }
    return this.cached;
  }

  /** Applies a change and stores the result. */
  patch(patch: SchedulePatch, now: Date): SimSchedule {
    const next = applyPatch(this.doc(), patch, now);
    this.sql.exec("INSERT INTO schedule (id, doc) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc", JSON.stringify(next));
    this.cached = next;
    return next;
  }

  /**
   * A request's price: its model's entry (or the action's model-less one). A request that names no model on an
   * action several models serve (RunAPI picks by its source task) is priced at the most any of them costs.
   */
  price(action: CatalogAction | null, service: string, actionName: string, model: string | null, params: Record<string, unknown>): Price {
    const doc = this.doc();
    const entry = findEntry(doc, service, actionName, model);
    if (entry || model !== null || !action || action.models.length === 0) return priceOf(entry, { action, model, params });
    const prices = action.models.map((m) => priceOf(findEntry(doc, service, actionName, m), { action, model: m, params }));
    const priced = prices.filter((p): p is Extract<Price, { ok: true }> => p.ok);
    if (priced.length === 0) return prices[0] ?? priceOf(undefined, { action, model, params });
    return priced.reduce((a, b) => (b.quoteCents > a.quoteCents ? b : a));
  }
}
