import type { PriceSchedule } from "../catalog/types";
import { markupPercent, withMarkup, type MarkupConfig } from "../domain/markup";
import { MICROS_PER_CENT } from "../domain/money";
import { sha256Hex } from "../lib/crypto";
import type { ActiveSchedule } from "../lib/price-store";

/** Cents with a markup, as RunAPI writes them (fractional where the price is; exact to the micro-dollar). */
function markedCents(cents: number, percent: number): number {
  return withMarkup(Math.round(cents * MICROS_PER_CENT), percent) / MICROS_PER_CENT;
}

/** Every number of a billing config (overrides, matrix cells) with a markup; other values as they are. */
function markConfig(value: unknown, percent: number, key?: string): unknown {
  if (typeof value === "number") return key === "max_output_tokens" ? value : markedCents(value, percent);
  if (Array.isArray(value)) return value;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === "keys" || k === "duration_source" ? v : markConfig(v, percent, k)]));
  }
  return value;
}

const RATE_FIELDS = [
  "unit_price_cents",
  "input_price_per_1m_cents",
  "output_price_per_1m_cents",
  "cache_read_price_per_1m_cents",
  "cache_write_price_per_1m_cents",
] as const;

/**
 * The schedule in a tenant's terms (SPEC §12): RunAPI's shape, every price with the markup that applies to
 * it, the project's provenance beside. What RunAPI charges the operator never shows.
 */
export function tenantSchedules(active: ActiveSchedule, global: MarkupConfig, tenant?: Partial<MarkupConfig>): PriceSchedule[] {
  return active.index.all.map((s) => {
    const percent = markupPercent(global, tenant, { service: s.service, action: s.action, model: s.model });
    const out: PriceSchedule = {
      service: s.service,
      action: s.action,
      model: s.model,
      pricing_status: s.pricing_status ?? "available",
      catalog_status: s.catalog_status ?? "active",
      currency: "USD",
      billing_unit: s.billing_unit ?? "task",
      billing_strategy: s.billing_strategy ?? "per_task",
    };
    for (const f of RATE_FIELDS) out[f] = typeof s[f] === "number" ? markedCents(s[f], percent) : null;
    out.billing_config = s.billing_config ? (markConfig(s.billing_config, percent) as Record<string, unknown>) : {};
    if (s.source) out.source = s.source;
    if (s.note) out.note = s.note;
    return out;
  });
}

/** An ETag for a tenant's view: the schedule's own tag and the markups that shape it. */
export async function scheduleEtag(active: ActiveSchedule, global: MarkupConfig, tenant?: Partial<MarkupConfig>): Promise<string> {
  return `"${(await sha256Hex(JSON.stringify([active.etag, global, tenant ?? null]))).slice(0, 32)}"`;
}

/** Filters schedules by RunAPI's query parameters (`service` in either spelling). */
export function filterSchedules(list: PriceSchedule[], q: { service?: string; action?: string; model?: string }): PriceSchedule[] {
  const service = q.service?.replaceAll("_", "-");
  return list.filter((s) => (!service || s.service === service) && (!q.action || s.action === q.action) && (!q.model || s.model === q.model));
}
