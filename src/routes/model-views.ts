import { z } from "zod";
import { allActions, CATALOG_AS_OF, type CatalogAction, type Modality } from "../catalog/catalog";
import { modelFields } from "../catalog/overlays";
import type { FieldSpec, PriceSchedule } from "../catalog/types";
import { chatRates, priceRange, type ScheduleIndex } from "../domain/price-schedule";
import { modelAllowed } from "../domain/tenant";
import type { ActiveSchedule } from "../lib/price-store";

/** The catalog's output kinds, as RunAPI's MCP server names them. */
export const MODALITIES = ["image", "video", "audio", "utility"] as const satisfies readonly Modality[];

/** `GET /api/v1/models` filters: RunAPI's `list_models` arguments, and a model. */
export const ModelsQuery = z.object({
  modality: z.enum(MODALITIES).optional(),
  service: z.string().min(1).max(100).optional().describe("A service slug, either spelling (`veo-3-1` or `veo_3_1`)"),
  action: z.string().min(1).max(100).optional(),
  model: z.string().min(1).max(200).optional(),
});
/** The filters, parsed. */
export type ModelsFilter = z.output<typeof ModelsQuery>;

/** What one request of a model × action costs in the caller's terms, in (possibly fractional) cents. */
export interface PriceView {
  currency: "USD";
  /** The least one request costs; per billing unit for per-unit strategies; null when unknown. */
  min_cents: number | null;
  /** The most one request costs; "quote" when the schedule sets no bound (the create reserves RunAPI's quote); null when unavailable. */
  max_cents: number | "quote" | null;
  billing_strategy: string;
  billing_unit: string;
  /** The request fields the price depends on. */
  varies_with?: string[];
  source?: string;
  /** Why there is no price (the create is refused `pricing_unavailable`). */
  unavailable?: string;
}

/** One model × action of the catalog, as `GET /api/v1/models` and the MCP `list_models` tool show it. */
export interface ModelRow {
  model: string | null;
  service: string;
  action: string;
  modality: Modality;
  model_line: string;
  task_type: "asynchronous" | "synchronous";
  /** Where to POST a create (RunAPI's SDKs' path); status reads at `{path}/{id}`. */
  path: string;
  required_fields: string[];
  price: PriceView;
}

/** An entry's price range in the caller's terms (the entry is already marked up). */
export function priceView(entry: PriceSchedule | undefined): PriceView {
  const range = priceRange(entry);
  const base = { currency: "USD" as const, billing_strategy: entry?.billing_strategy ?? "per_task", billing_unit: entry?.billing_unit ?? "task" };
  const source = entry?.source ? { source: entry.source } : {};
  if (range.kind === "free") return { ...base, min_cents: 0, max_cents: 0, ...source };
  if (range.kind === "unavailable") return { ...base, min_cents: null, max_cents: null, unavailable: range.reason };
  return {
    ...base,
    min_cents: range.min,
    max_cents: range.max ?? "quote",
    ...(range.varies_with.length ? { varies_with: range.varies_with } : {}),
    ...source,
  };
}

/** The rosters' required fields, contract and overlay together. */
function requiredFields(action: CatalogAction, model: string | null): string[] {
  return [...modelFields(action, model ?? undefined)].filter(([, spec]) => spec.required).map(([name]) => name);
}

/**
 * The catalog as rows of model × action (an action without models is one row, model null), filtered as asked
 * and to the models a tenant may use, each priced from `prices` (the schedule in the caller's terms).
 */
export function catalogRows(prices: ScheduleIndex, allowed: readonly string[] | null, filter: ModelsFilter = {}): ModelRow[] {
  const service = filter.service?.toLowerCase().replaceAll("_", "-");
  const actionName = filter.action?.toLowerCase().replaceAll("-", "_");
  const rows: ModelRow[] = [];
  for (const a of allActions()) {
    if ((filter.modality && a.modality !== filter.modality) || (service && a.service !== service) || (actionName && a.action !== actionName)) continue;
    for (const model of a.models.length ? a.models : [null]) {
      if (filter.model && model !== filter.model) continue;
      if (!modelAllowed(allowed, { service: a.service, action: a.action, model })) continue;
      rows.push({
        model,
        service: a.service,
        action: a.action,
        modality: a.modality,
        model_line: a.line,
        task_type: a.sync ? "synchronous" : "asynchronous",
        path: a.path,
        required_fields: requiredFields(a, model),
        price: priceView(prices.entry(a.service, a.action, model)),
      });
    }
  }
  return rows;
}

/** Where the catalog comes from, for its listings. */
export function catalogSource(): string {
  return `RunAPI's contract as of ${CATALOG_AS_OF}, validated and priced by this proxy`;
}

/** A field as RunAPI's `get_model_info` summarises it. */
export function fieldSummary(fields: ReadonlyMap<string, FieldSpec>) {
  return [...fields].map(([name, f]) => ({
    name,
    type: f.type,
    required: f.required === true,
    ...(f.enum ? { enum: f.enum } : {}),
    ...(f.default !== undefined ? { default: f.default } : {}),
    ...(f.min !== undefined ? { min: f.min } : {}),
    ...(f.max !== undefined ? { max: f.max } : {}),
    ...(f.length ? { length: true } : {}),
    ...(f.min_items !== undefined ? { min_items: f.min_items } : {}),
    ...(f.max_items !== undefined ? { max_items: f.max_items } : {}),
    ...(f.pattern ? { pattern: f.pattern } : {}),
  }));
}

/** The action's cross-field rules that apply to a model (those conditioned on another model left out). */
export function rulesFor(action: CatalogAction, model: string | null) {
  return action.rules.filter((r) => r.when?.model === undefined || r.when.model === model);
}

/** The OpenAI model object of a chat model. */
export interface OpenAiModel {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

/** The chat models the schedule prices (usable ones only: a model without a usable price is refused), in OpenAI's shape. */
export function chatModels(active: ActiveSchedule): OpenAiModel[] {
  const created = Math.floor((Date.parse(active.as_of) || 0) / 1000);
  return active.index.chats
    .filter((e) => chatRates(e) !== null)
    .map((e) => ({ id: e.model!, object: "model" as const, created, owned_by: "runapi" }))
    .sort((a, b) => a.id.localeCompare(b.id));
}
