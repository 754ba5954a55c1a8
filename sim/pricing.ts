import { fieldsFor, type CatalogAction } from "../src/catalog/catalog";
import type { PriceSchedule } from "../src/catalog/types";
import { hailuoEffective } from "./hailuo";

/**
 * The simulator's own evaluation of its price schedule (never the proxy's evaluator): what RunAPI's
 * `price_quotes` answers for a request, and what the finished task reports as `cost_cents`.
 */

/** A price, in (possibly fractional) cents: the quote (the reservation) and the cost the finished task reports. */
export type Price = { ok: true; quoteCents: number; costCents: number | null; basis: string } | { ok: false; status: 400 | 422; code: string; reason: string };

/** What a request is, for pricing: its action (null for chat), model and fields as sent. */
export interface PriceInput {
  action: CatalogAction | null;
  model: string | null;
  params: Record<string, unknown>;
}

/** Per-unit strategies and the field that counts the units. */
const PER_UNIT: Record<string, string> = { per_second: "duration_seconds", per_output: "output_count", per_image: "output_count" };

/** The output tokens of speech per input token of text, for per-token speech models (deterministic, not real). */
export const SPEECH_TOKENS_PER_TEXT_TOKEN = 6;

const round = (cents: number): number => Math.round(cents * 10_000) / 10_000;
const ok = (quoteCents: number, basis: string, costCents: number | null = quoteCents): Price => ({
  ok: true,
  quoteCents: round(quoteCents),
  costCents: costCents === null ? null : round(costCents),
  basis,
});
const unavailable = (reason: string): Price => ({ ok: false, status: 422, code: "pricing_unavailable", reason });

/** Prices a request from its schedule entry. */
export function priceOf(entry: PriceSchedule | undefined, input: PriceInput): Price {
  if (!entry) return unavailable("no price schedule covers this request");
  if (entry.pricing_status && entry.pricing_status !== "available") return unavailable(`its price is ${entry.pricing_status}`);
  const strategy = entry.billing_strategy ?? "per_task";
  if (strategy === "free") return ok(0, "free");
  if (strategy === "per_token") return input.action === null ? chatPrice(entry, input.params) : speechPrice(entry, input.params);

  const config = (entry.billing_config ?? {}) as Record<string, unknown>;
  const values = effectiveValues(input);
  const exact = configPrice(entry, config, values);
  if (typeof exact === "string") return { ok: false, status: 400, code: "invalid_request", reason: exact };
  if (config.duration_source !== undefined) {
    // RunAPI prices these from the output's length: it quotes the most the entry allows and bills what it rendered.
    const most = maxPrice(entry);
    return most === null
      ? unavailable("RunAPI prices it from the output and the schedule gives no bound")
      : ok(most, "largest price (billed by output length)", exact.cents);
  }
  if (exact.cents === null) return unavailable("the schedule gives no price");
  const unitField = PER_UNIT[strategy];
  if (strategy === "per_task") return ok(exact.cents, exact.basis);
  if (!unitField) return unavailable(`unknown billing strategy ${strategy}`);
  const units = values(unitField) ?? (unitField === "output_count" ? 1 : undefined);
  if (typeof units !== "number" || !(units > 0)) return unavailable(`the request does not say its ${unitField}`);
  return ok(exact.cents * units, `${exact.basis} × ${units} ${unitField}`);
}

/** The key/matrix/flat price for the request's values: null when the entry has none; a string when a value has no price. */
function configPrice(
  entry: PriceSchedule,
  config: Record<string, unknown>,
  values: (key: string) => unknown,
): { cents: number | null; basis: string } | string {
  const unit = typeof entry.unit_price_cents === "number" ? entry.unit_price_cents : null;
  if (Array.isArray(config.keys) && isObject(config.matrix)) {
    const keys = config.keys as string[];
    const known = keys.map((k) => values(k));
    const cents = matrixPrice(config.matrix, known);
    const basis = keys.map((k, i) => `${k}=${known[i] === undefined ? "any" : String(known[i])}`).join(", ");
    if (cents === undefined) return `no price for ${basis}`;
    return { cents, basis: known.includes(undefined) ? `largest price for ${basis}` : basis };
  }
  if (typeof config.key === "string" && isObject(config.overrides)) {
    const value = values(config.key);
    const overrides = Object.values(config.overrides).filter((v): v is number => typeof v === "number");
    if (value === undefined) return { cents: maxOf([...overrides, unit]) ?? null, basis: `largest price (no ${config.key})` };
    const override = config.overrides[String(value)];
    return { cents: typeof override === "number" ? override : unit, basis: `${config.key}=${String(value)}` };
  }
  return { cents: unit, basis: "per task" };
}

/** A nested matrix at the given values ("any" matches every value); an unknown value takes the largest price below it. */
function matrixPrice(node: unknown, values: unknown[]): number | undefined {
  if (values.length === 0) return typeof node === "number" ? node : undefined;
  if (!isObject(node)) return undefined;
  const [value, ...rest] = values;
  if (value === undefined) return maxOf(Object.values(node).map((child) => matrixPrice(child, rest)));
  const child = node[String(value)] ?? node.any;
  return child === undefined ? undefined : matrixPrice(child, rest);
}

/** The largest price an entry allows (unit price, overrides, matrix cells), or null when it gives none. */
export function maxPrice(entry: PriceSchedule): number | null {
  const found: number[] = typeof entry.unit_price_cents === "number" ? [entry.unit_price_cents] : [];
  const walk = (v: unknown): void => {
    if (typeof v === "number") found.push(v);
    else if (isObject(v)) for (const x of Object.values(v)) walk(x);
  };
  const config = (entry.billing_config ?? {}) as Record<string, unknown>;
  walk(config.overrides);
  walk(config.matrix);
  return found.length > 0 ? Math.max(...found) : null;
}

/**
 * The value of a pricing key for a request: as sent, else the contract's default (Hailuo: RunAPI's defaults),
 * else derived (`duration_band`, `input_mode`, `pricing_input_mode`), else undefined (priced at the most).
 */
function effectiveValues(input: PriceInput): (key: string) => unknown {
  const { action, model, params } = input;
  const fields = action ? fieldsFor(action, model) : new Map();
  const hailuo = action?.service === "hailuo" && model ? hailuoEffective(model, params) : null;
  const value = (key: string): unknown => params[key] ?? (hailuo as Record<string, unknown> | null)?.[key] ?? fields.get(key)?.default;
  const has = (...keys: string[]) => keys.some((k) => params[k] !== undefined);
  return (key) => {
    const direct = value(key);
    if (direct !== undefined || fields.has(key)) return direct;
    if (key === "duration_band") return bandOf(value("duration_seconds"));
    if (key === "input_mode") return has("video_list", "reference_video_urls", "source_video_url") ? "video" : "generated";
    if (key === "pricing_input_mode") return Object.keys(params).some((k) => k.startsWith("reference_")) ? "reference" : "standard";
    return undefined;
  };
}

/** The band ("1-10", "11-20", "21-30") a duration falls in. */
function bandOf(duration: unknown): string | undefined {
  if (typeof duration !== "number") return undefined;
  const lo = Math.floor((duration - 1) / 10) * 10 + 1;
  return `${lo}-${lo + 9}`;
}

/** A chat quote: `{input_tokens, max_tokens}` at the model's rates (output capped at its `max_output_tokens`). */
function chatPrice(entry: PriceSchedule, params: Record<string, unknown>): Price {
  const cap = (entry.billing_config as { max_output_tokens?: unknown } | null)?.max_output_tokens;
  const inputTokens = typeof params.input_tokens === "number" && params.input_tokens >= 0 ? params.input_tokens : 0;
  const asked = typeof params.max_tokens === "number" && params.max_tokens > 0 ? params.max_tokens : undefined;
  const outputTokens = Math.min(asked ?? Number.POSITIVE_INFINITY, typeof cap === "number" ? cap : (asked ?? 4096));
  return tokenPrice(entry, inputTokens, outputTokens, `${inputTokens} input + ${outputTokens} output tokens`);
}

/** A per-token speech model: text tokens (one per 4 characters of the request's text) and speech tokens from them. */
function speechPrice(entry: PriceSchedule, params: Record<string, unknown>): Price {
  const chars = spokenText(params).length;
  const inputTokens = Math.max(1, Math.ceil(chars / 4));
  const outputTokens = inputTokens * SPEECH_TOKENS_PER_TEXT_TOKEN;
  return tokenPrice(entry, inputTokens, outputTokens, `${chars} characters of text: ${inputTokens} input + ${outputTokens} output tokens`);
}

function tokenPrice(entry: PriceSchedule, inputTokens: number, outputTokens: number, basis: string): Price {
  const input = entry.input_price_per_1m_cents;
  const output = entry.output_price_per_1m_cents;
  if (typeof input !== "number" || typeof output !== "number") return unavailable("the schedule gives no per-token rates");
  return ok((inputTokens * input + outputTokens * output) / 1_000_000, basis);
}

/** The text a speech request speaks: every `text` string in it (dialogue turns included), else its prompt. */
export function spokenText(params: Record<string, unknown>): string {
  const texts: string[] = [];
  const walk = (v: unknown, key: string): void => {
    if (typeof v === "string" && key === "text") texts.push(v);
    else if (Array.isArray(v)) for (const x of v) walk(x, key);
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(params, "");
  return texts.length > 0 ? texts.join("\n") : typeof params.prompt === "string" ? params.prompt : "";
}

function maxOf(values: (number | undefined | null)[]): number | undefined {
  const numbers = values.filter((v): v is number => typeof v === "number");
  return numbers.length > 0 ? Math.max(...numbers) : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
