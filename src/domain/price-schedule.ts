import type { PriceSchedule } from "../catalog/types";
import { centsToMicros, type Micros } from "./money";

/**
 * RunAPI's price schedule evaluated locally (SPEC §12), so a create needs no extra upstream call:
 * flat prices, `billing_config.key` + `overrides`, `keys` + `matrix` (nested, with "any"), and per-unit
 * strategies multiplied by the request's duration or output count. Amounts are RunAPI's cost in
 * micro-dollars; the tenant's price (markup) is applied by the caller.
 */

/** What the schedule says a request costs. */
export type Evaluation =
  /** Priced exactly. */
  | { kind: "exact"; micros: Micros; basis: string }
  /** The schedule marks the action free (RunAPI publishes 0 for it). */
  | { kind: "free"; basis: string }
  /** Not exactly: ask RunAPI for a quote; `maxMicros` is the largest price the schedule allows, when bounded. */
  | { kind: "inexact"; maxMicros: Micros | null; reason: string }
  /** No usable price: never forwarded unpriced. */
  | { kind: "unavailable"; reason: string };

/** The strategies whose price scales with a count in the request. */
const PER_UNIT: Record<string, readonly string[]> = {
  per_second: ["duration_seconds", "duration"],
  per_output: ["output_count", "num_images", "num_outputs", "n", "count"],
  per_image: ["output_count", "num_images", "n", "count"],
};

/** A schedule's prices indexed by service/action/model (service in the contract's spelling). */
export interface ScheduleIndex {
  entry(service: string, action: string, model: string | null): PriceSchedule | undefined;
  /** Every price of one action (one per model). */
  ofAction(service: string, action: string): PriceSchedule[];
  /** A chat model's per-token price (whatever service RunAPI files it under). */
  chat(model: string): PriceSchedule | undefined;
  /** Every chat model's price. */
  chats: readonly PriceSchedule[];
  all: readonly PriceSchedule[];
}

/** Chat completions, as the schedule names the action (RunAPI's snapshot says `chat_completion`). */
const CHAT_ACTIONS = new Set(["chat_completions", "chat_completion"]);

/** Whether an entry prices an OpenAI-compatible chat model. */
export function isChatEntry(s: PriceSchedule): boolean {
  return CHAT_ACTIONS.has(s.action) && s.model !== null;
}

const key = (service: string, action: string, model: string | null) => `${service.replaceAll("_", "-")}/${action}/${model ?? ""}`;

/** Indexes a schedule's entries (services in either spelling). */
export function indexSchedule(schedules: readonly PriceSchedule[]): ScheduleIndex {
  const byKey = new Map<string, PriceSchedule>();
  const byAction = new Map<string, PriceSchedule[]>();
  const chats = new Map<string, PriceSchedule>();
  for (const s of schedules) {
    byKey.set(key(s.service, s.action, s.model), s);
    const a = key(s.service, s.action, null);
    byAction.set(a, [...(byAction.get(a) ?? []), s]);
    if (isChatEntry(s)) chats.set(s.model!, s);
  }
  return {
    entry: (service, action, model) => byKey.get(key(service, action, model)),
    ofAction: (service, action) => byAction.get(key(service, action, null)) ?? [],
    chat: (model) => chats.get(model),
    chats: [...chats.values()],
    all: schedules,
  };
}

/**
 * Evaluates one schedule entry for a request's effective values (the client's fields with defaults filled in).
 * A 0 for an action the schedule does not mark free is unavailable, never free.
 */
export function evaluate(entry: PriceSchedule | undefined, effective: Record<string, unknown>): Evaluation {
  if (!entry) return { kind: "unavailable", reason: "the price schedule has no price for it" };
  if (entry.pricing_status !== undefined && entry.pricing_status !== "available") {
    return { kind: "unavailable", reason: `its price is ${entry.pricing_status}` };
  }
  if (entry.catalog_status === "disabled") return { kind: "unavailable", reason: "RunAPI has disabled it" };
  const strategy = entry.billing_strategy ?? "per_task";
  if (strategy === "free") return { kind: "free", basis: "free in RunAPI's schedule" };
  const config = (entry.billing_config ?? {}) as Record<string, unknown>;
  const max = maxCents(entry);
  const bounded = (reason: string): Evaluation => ({ kind: "inexact", maxMicros: max === null ? null : safeMicros(max), reason });

  if (config.duration_source !== undefined) return bounded("RunAPI prices it from the output's length");
  let cents: number | undefined;
  let basis: string;
  if (Array.isArray(config.keys) && config.matrix && typeof config.matrix === "object") {
    const keys = config.keys as string[];
    const values = keys.map((k) => effective[k]);
    if (values.some((v) => v === undefined)) return bounded(`the request does not say ${keys.filter((_, i) => values[i] === undefined).join(", ")}`);
    cents = lookupMatrix(config.matrix as Record<string, unknown>, values);
    if (cents === undefined) return bounded(`the schedule has no price for ${keys.map((k, i) => `${k}=${String(values[i])}`).join(", ")}`);
    basis = keys.map((k, i) => `${k}=${String(values[i])}`).join(", ");
  } else if (typeof config.key === "string" && config.overrides && typeof config.overrides === "object") {
    const value = effective[config.key];
    if (value === undefined) return bounded(`the request does not say ${config.key}`);
    const override = (config.overrides as Record<string, unknown>)[String(value)];
    cents = typeof override === "number" ? override : (entry.unit_price_cents ?? undefined);
    basis = `${config.key}=${String(value)}`;
  } else {
    cents = entry.unit_price_cents ?? undefined;
    basis = "per task";
  }
  if (cents === undefined || cents === null || !Number.isFinite(cents) || cents < 0) return { kind: "unavailable", reason: "the schedule gives no price" };

  if (strategy !== "per_task") {
    const fields = PER_UNIT[strategy];
    if (!fields) return { kind: "inexact", maxMicros: null, reason: `RunAPI bills it ${strategy}, which the proxy cannot price itself` };
    const field = fields.find((f) => typeof effective[f] === "number");
    const units = field ? (effective[field] as number) : undefined;
    if (units === undefined || !Number.isFinite(units) || units <= 0)
      return { kind: "inexact", maxMicros: null, reason: `the request does not say its ${fields[0]}` };
    cents *= units;
    basis = `${basis} × ${units} (${field})`;
  }
  if (cents === 0) return { kind: "unavailable", reason: "the schedule prices a billable action at 0" };
  return { kind: "exact", micros: safeMicros(cents), basis };
}

/** The request fields an entry's price depends on (`billing_config.key` or `keys`, and the count a per-unit price multiplies). */
export function priceFields(entry: PriceSchedule | undefined): string[] {
  const config = (entry?.billing_config ?? {}) as Record<string, unknown>;
  const keys = Array.isArray(config.keys) ? config.keys.filter((k): k is string => typeof k === "string") : [];
  if (typeof config.key === "string") keys.push(config.key);
  return [...keys, ...(PER_UNIT[entry?.billing_strategy ?? ""] ?? [])];
}

/** The largest price an entry allows, in cents; null when it scales without a bound (per unit) or has none. */
export function maxCents(entry: PriceSchedule): number | null {
  if (entry.billing_strategy && entry.billing_strategy !== "per_task" && entry.billing_strategy !== "free") return null;
  const values: number[] = [];
  if (typeof entry.unit_price_cents === "number") values.push(entry.unit_price_cents);
  const walk = (v: unknown): void => {
    if (typeof v === "number") values.push(v);
    else if (v && typeof v === "object") for (const x of Object.values(v)) walk(x);
  };
  const config = (entry.billing_config ?? {}) as Record<string, unknown>;
  walk(config.overrides);
  walk(config.matrix);
  const finite = values.filter((v) => Number.isFinite(v) && v >= 0);
  return finite.length ? Math.max(...finite) : null;
}

/** What one request of an entry can cost, in (possibly fractional) cents, as the catalog shows it. */
export type PriceRange =
  | { kind: "free" }
  /** The least and the most one request can cost; `max` null when the schedule sets no bound (RunAPI quotes it). */
  | { kind: "range"; min: number | null; max: number | null; varies_with: string[] }
  | { kind: "unavailable"; reason: string };

/**
 * The range of an entry's prices: the least and the most cell of its overrides or matrix (with the base price
 * where a missing override falls back to it); per-unit and unknown strategies have no upper bound.
 */
export function priceRange(entry: PriceSchedule | undefined): PriceRange {
  if (!entry) return { kind: "unavailable", reason: "the price schedule has no price for it" };
  if (entry.pricing_status !== undefined && entry.pricing_status !== "available")
    return { kind: "unavailable", reason: `its price is ${entry.pricing_status}` };
  if (entry.catalog_status === "disabled") return { kind: "unavailable", reason: "RunAPI has disabled it" };
  const strategy = entry.billing_strategy ?? "per_task";
  if (strategy === "free") return { kind: "free" };
  const config = (entry.billing_config ?? {}) as Record<string, unknown>;
  const values: number[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "number") values.push(v);
    else if (v && typeof v === "object") for (const x of Object.values(v)) walk(x);
  };
  const matrix = Array.isArray(config.keys) && config.matrix && typeof config.matrix === "object";
  if (matrix) walk(config.matrix);
  else if (typeof config.key === "string") walk(config.overrides);
  if (!matrix && typeof entry.unit_price_cents === "number") values.push(entry.unit_price_cents);
  const finite = values.filter((v) => Number.isFinite(v) && v >= 0);
  const varies_with = matrix ? (config.keys as unknown[]).map(String) : typeof config.key === "string" ? [config.key] : [];
  if (!finite.length)
    return strategy === "per_task" ? { kind: "unavailable", reason: "the schedule gives no price" } : { kind: "range", min: null, max: null, varies_with };
  return { kind: "range", min: Math.min(...finite), max: maxCents(entry), varies_with };
}

/** A nested matrix looked up by each key's value ("any" matches every value); booleans and numbers as their strings. */
function lookupMatrix(matrix: Record<string, unknown>, values: unknown[]): number | undefined {
  let node: unknown = matrix;
  for (const value of values) {
    if (!node || typeof node !== "object") return undefined;
    const level = node as Record<string, unknown>;
    node = level[String(value)] ?? level.any;
  }
  return typeof node === "number" ? node : undefined;
}

function safeMicros(cents: number): Micros {
  const micros = centsToMicros(cents);
  if (!Number.isSafeInteger(micros)) throw new RangeError("price out of range");
  return micros;
}

/** Chat rates from a per-token entry: micro-dollars per 1M input/output tokens and the model's output cap. */
export interface ChatRates {
  model: string;
  input_micros_per_1m: Micros;
  output_micros_per_1m: Micros;
  cache_read_micros_per_1m: Micros | null;
  /** The most output tokens the model produces in one answer, when the schedule says. */
  max_output_tokens: number | null;
}

/** The chat rates of a per-token entry, or null when it has none usable (pending, missing, or 0 for a billable model). */
export function chatRates(entry: PriceSchedule | undefined): ChatRates | null {
  if (!entry || (entry.pricing_status !== undefined && entry.pricing_status !== "available")) return null;
  const input = entry.input_price_per_1m_cents;
  const output = entry.output_price_per_1m_cents;
  if (typeof input !== "number" || typeof output !== "number" || !(input >= 0) || !(output > 0)) return null;
  const cap = (entry.billing_config as { max_output_tokens?: unknown } | null | undefined)?.max_output_tokens;
  const cacheRead = entry.cache_read_price_per_1m_cents;
  return {
    model: entry.model ?? "",
    input_micros_per_1m: safeMicros(input),
    output_micros_per_1m: safeMicros(output),
    cache_read_micros_per_1m: typeof cacheRead === "number" && cacheRead >= 0 ? safeMicros(cacheRead) : null,
    max_output_tokens: typeof cap === "number" && Number.isInteger(cap) && cap > 0 ? cap : null,
  };
}
