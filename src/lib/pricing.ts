import type { CatalogAction } from "../catalog/catalog";
import { canonicalJson, type CatalogRequest } from "../catalog/request";
import type { PriceSource } from "../catalog/types";
import { markupPercent, withMarkup, type MarkupConfig } from "../domain/markup";
import { centsToMicros, type Micros } from "../domain/money";
import { chatRates, evaluate, type ChatRates, type Evaluation } from "../domain/price-schedule";
import { UPLOAD_PRICE_ENTRY } from "../domain/uploads";
import type { Config } from "../env";
import { AppError, invalidRequest } from "./errors";
import { activeMarkup, activeSchedule } from "./price-store";

/** How a reservation's amount was found. */
export type PriceBasis = PriceSource | "quote" | "schedule_max" | "free";

/** A priced request: what the tenant pays (reserved), what RunAPI charges the operator, and how it was found. */
export interface Price {
  /** The tenant's price, in micros: RunAPI's cost with the operator's markup. */
  micros: Micros;
  /** RunAPI's cost, in micros. */
  costMicros: Micros;
  markupPercent: number;
  source: PriceBasis;
  basis: string;
}

/** What pricing needs of RunAPI when the schedule cannot price a request itself (the upstream client is one). */
export interface PriceQuoter {
  priceQuoteCents(req: { service: string; action: string; model: string | null; params: Record<string, unknown> }): Promise<number>;
}

const QUOTE_TTL_MS = 10 * 60_000;
const MAX_QUOTES = 1_000;
const quotes = new Map<string, { cents: number; at: number }>();

/**
 * Prices a validated request for a tenant (SPEC §12): the schedule evaluated locally; where it cannot
 * price exactly, RunAPI's quote (cached per normalised params), else the largest price the schedule
 * allows; with nothing usable, `503 pricing_unavailable`, never an unpriced forward. A quote of 0 for a
 * billable action is no price. In `PRICING_MODE=quote` the quote comes first for every request.
 */
export async function priceRequest(
  kv: KVNamespace,
  config: Config,
  quoter: PriceQuoter,
  action: CatalogAction,
  req: CatalogRequest,
  effective: Record<string, unknown>,
  tenantMarkup?: Partial<MarkupConfig>,
): Promise<Price> {
  const [schedule, markup] = await Promise.all([activeSchedule(kv), activeMarkup(kv)]);
  const percent = markupPercent(markup, tenantMarkup, req);
  const priced = pricer(percent);

  const evaluation = evaluateFor(action, req, effective, (model) => schedule.index.entry(req.service, req.action, model));
  const entrySource = schedule.index.entry(req.service, req.action, req.model ?? action.models[0] ?? null)?.source ?? "published";
  if (config.pricingMode !== "quote" || evaluation.kind === "free") {
    if (evaluation.kind === "exact") return priced(evaluation.micros, entrySource, evaluation.basis);
    if (evaluation.kind === "free") return priced(0, "free", evaluation.basis);
  }
  const quoted = await quoteCents(quoter, req, effective);
  if (quoted !== null) return priced(centsToMicros(quoted), "quote", "RunAPI's price quote");
  if (evaluation.kind === "exact") return priced(evaluation.micros, entrySource, evaluation.basis);
  if (evaluation.kind === "inexact" && evaluation.maxMicros !== null && evaluation.maxMicros > 0) {
    return priced(evaluation.maxMicros, "schedule_max", `the most the schedule allows (${evaluation.reason})`);
  }
  const why = evaluation.kind === "inexact" || evaluation.kind === "unavailable" ? evaluation.reason : "no price";
  throw new AppError(
    "pricing_unavailable",
    `${req.service} ${req.action}${req.model ? ` ${req.model}` : ""} cannot be priced right now (${why}); nothing was sent to RunAPI`,
    { service: req.service, action: req.action, model: req.model },
    { "Retry-After": "60" },
  );
}

/** One model's evaluation; an action whose model RunAPI picks (several, none named) is priced at the most any could cost. */
function evaluateFor(
  action: CatalogAction,
  req: CatalogRequest,
  effective: Record<string, unknown>,
  entry: (model: string | null) => Parameters<typeof evaluate>[0],
): Evaluation {
  if (req.model !== null || action.models.length === 0) return evaluate(entry(req.model), effective);
  const each = action.models.map((m) => evaluate(entry(m), effective));
  const exact = each.filter((e) => e.kind === "exact");
  if (exact.length === each.length && new Set(exact.map((e) => e.micros)).size === 1) return exact[0]!;
  const maxes = each.map((e) => (e.kind === "exact" ? e.micros : e.kind === "inexact" ? e.maxMicros : e.kind === "free" ? 0 : null));
  if (maxes.some((m) => m === null)) return { kind: "inexact", maxMicros: null, reason: "RunAPI picks the model from the source task" };
  return { kind: "inexact", maxMicros: Math.max(...(maxes as number[])), reason: "RunAPI picks the model from the source task" };
}

/** RunAPI's quote in cents, cached per normalised request; null when it fails or is 0 (never a price). */
async function quoteCents(quoter: PriceQuoter, req: CatalogRequest, effective: Record<string, unknown>): Promise<number | null> {
  const key = canonicalJson([req.service, req.action, req.model, effective]);
  const hit = quotes.get(key);
  if (hit && Date.now() - hit.at < QUOTE_TTL_MS) return hit.cents;
  try {
    const cents = await quoter.priceQuoteCents({ service: req.service, action: req.action, model: req.model, params: effective });
    if (!(cents > 0)) return null;
    if (quotes.size >= MAX_QUOTES) quotes.delete(quotes.keys().next().value!);
    quotes.set(key, { cents, at: Date.now() });
    return cents;
  } catch {
    return null;
  }
}

/** What a chat model costs: RunAPI's rates from the schedule and the markup the tenant pays on them. */
export interface ChatPricing {
  rates: ChatRates;
  markupPercent: number;
}

/**
 * A chat model's pricing in a tenant's terms (SPEC §12): its per-token rates from the schedule. A model the
 * schedule does not know is a 400 naming the priced ones; one it knows without a usable price is a 503.
 */
export async function chatPricing(kv: KVNamespace, model: string, tenantMarkup?: Partial<MarkupConfig>): Promise<ChatPricing> {
  const [schedule, markup] = await Promise.all([activeSchedule(kv), activeMarkup(kv)]);
  const entry = schedule.index.chat(model);
  if (!entry) {
    const priced = schedule.index.chats.filter((e) => chatRates(e)).map((e) => e.model);
    throw invalidRequest([{ field: "model", message: `${model} has no chat price on this proxy; priced models: ${priced.join(", ") || "none"}` }]);
  }
  const rates = chatRates(entry);
  if (!rates) {
    throw new AppError(
      "pricing_unavailable",
      `${model} cannot be priced right now (its price is not published); nothing was sent to RunAPI`,
      { model },
      { "Retry-After": "60" },
    );
  }
  return { rates, markupPercent: markupPercent(markup, tenantMarkup, { service: entry.service, action: entry.action, model }) };
}

/** A price from RunAPI's cost with `percent` markup on it, with where it came from. */
function pricer(percent: number) {
  return (costMicros: Micros, source: PriceBasis, basis: string): Price => ({
    micros: withMarkup(costMicros, percent),
    costMicros,
    markupPercent: percent,
    source,
    basis,
  });
}

/**
 * What making one file through RunAPI's upload endpoints costs a tenant (SPEC §12): the schedule's `files`/`upload`
 * entry, evaluated like any other (free, exact, or the most it allows), with the tenant's markup. Without such an
 * entry RunAPI does not charge for uploads and neither does the proxy: free (the call is still counted). An entry
 * with no usable price is a 503, never an unpriced forward.
 */
export async function uploadPrice(kv: KVNamespace, tenantMarkup?: Partial<MarkupConfig>): Promise<Price> {
  const [schedule, markup] = await Promise.all([activeSchedule(kv), activeMarkup(kv)]);
  const { service, action, model } = UPLOAD_PRICE_ENTRY;
  const entry = schedule.index.entry(service, action, model);
  const percent = markupPercent(markup, tenantMarkup, UPLOAD_PRICE_ENTRY);
  const priced = pricer(percent);
  if (!entry) return priced(0, "free", "RunAPI's schedule does not price uploads");
  const evaluation = evaluate(entry, {});
  if (evaluation.kind === "free") return priced(0, "free", evaluation.basis);
  if (evaluation.kind === "exact") return priced(evaluation.micros, entry.source ?? "published", evaluation.basis);
  if (evaluation.kind === "inexact" && evaluation.maxMicros !== null && evaluation.maxMicros > 0) {
    return priced(evaluation.maxMicros, "schedule_max", `the most the schedule allows (${evaluation.reason})`);
  }
  throw new AppError(
    "pricing_unavailable",
    `Uploads cannot be priced right now (${evaluation.kind === "inexact" || evaluation.kind === "unavailable" ? evaluation.reason : "no price"}); nothing was sent to RunAPI`,
    { service, action },
    { "Retry-After": "60" },
  );
}
