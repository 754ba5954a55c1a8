import type { FieldIssue } from "../lib/errors";
import { microsToUsd, usdToMicros, type Micros } from "./money";
import type { PriceSource } from "./pricing";

/** The price of one chat model: micro-dollars per 1M input and output tokens, and the output cap a reservation assumes. */
export interface ChatPrice {
  model: string;
  input_micros_per_1m: Micros;
  output_micros_per_1m: Micros;
  /** Output tokens reserved when a request sets neither `max_tokens` nor `max_completion_tokens`. */
  max_output_tokens: number;
  source: PriceSource;
  note?: string;
}

/** The public JSON shape of one chat price (`/api/v1/prices`, `/admin/v1/prices` as `chat_prices`). */
export interface ChatPriceJson {
  model: string;
  input_usd_per_1m_tokens: number;
  output_usd_per_1m_tokens: number;
  max_output_tokens: number;
  source: PriceSource;
  note?: string;
}

const LIST_PRICE = "provisional: OpenAI's list price; RunAPI has not published its own";

/** Chat prices until the operator sets their own (the simulator's models; RunAPI publishes none yet). */
export const DEFAULT_CHAT_PRICES: ChatPrice[] = [
  { model: "gpt-4o-mini", input_micros_per_1m: 150_000, output_micros_per_1m: 600_000, max_output_tokens: 16_384, source: "provisional", note: LIST_PRICE },
  { model: "gpt-4o", input_micros_per_1m: 2_500_000, output_micros_per_1m: 10_000_000, max_output_tokens: 16_384, source: "provisional", note: LIST_PRICE },
];

/** Tokens above this are not believed (usage from upstream, caps from clients): it keeps every product a safe integer. */
export const MAX_TOKENS = 10_000_000;
/** Per message, the chat template's own tokens (role, separators), on top of its bytes. */
const TOKENS_PER_MESSAGE = 8;
/** An image part costs tokens its URL's bytes do not show (OpenAI: at most ~1 500 per high-detail image). */
const TOKENS_PER_IMAGE = 2_000;

const clampTokens = (n: number) => Math.min(Math.max(Math.trunc(n), 0), MAX_TOKENS);

/** Micro-dollars for token counts at a model's prices, rounded up to the next micro-dollar. */
export function chatCostMicros(price: ChatPrice, inputTokens: number, outputTokens: number): Micros {
  // BigInt: tokens × price can pass 2^53 even though the result (÷ 1M) never does.
  const units = BigInt(clampTokens(inputTokens)) * BigInt(price.input_micros_per_1m) + BigInt(clampTokens(outputTokens)) * BigInt(price.output_micros_per_1m);
  return Number((units + 999_999n) / 1_000_000n);
}

/**
 * An upper bound on a request's input tokens without a tokenizer: a token is at least one byte
 * of the JSON it came in, plus the template's tokens per message and a fixed allowance per image.
 */
export function inputTokenBound(bodyBytes: number, body: { messages?: unknown }): number {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  let images = 0;
  for (const m of messages) {
    const content = (m as { content?: unknown } | null)?.content;
    if (Array.isArray(content)) images += content.filter((p) => (p as { type?: unknown } | null)?.type === "image_url").length;
  }
  return clampTokens(bodyBytes + TOKENS_PER_MESSAGE * messages.length + TOKENS_PER_IMAGE * images);
}

/** The output tokens a request may produce: its own cap (else the model's) for each of its `n` choices. */
export function outputTokenBound(price: ChatPrice, body: { max_tokens?: unknown; max_completion_tokens?: unknown; n?: unknown }): number {
  const asked = body.max_completion_tokens ?? body.max_tokens;
  const perChoice = typeof asked === "number" && Number.isInteger(asked) && asked > 0 ? clampTokens(asked) : price.max_output_tokens;
  const choices = typeof body.n === "number" && Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
  return clampTokens(perChoice * choices);
}

/** A rough token count of text that was produced (about 4 bytes a token), for streams that end without `usage`. */
export function estimateTokens(utf8Bytes: number): number {
  return clampTokens(Math.ceil(utf8Bytes / 4));
}

/** Token counts from an OpenAI `usage` object, or null when it has none. */
export function parseUsage(usage: unknown): { input: number; output: number } | null {
  if (!usage || typeof usage !== "object") return null;
  const u = usage as { prompt_tokens?: unknown; completion_tokens?: unknown };
  if (typeof u.prompt_tokens !== "number" || typeof u.completion_tokens !== "number") return null;
  if (!Number.isFinite(u.prompt_tokens) || !Number.isFinite(u.completion_tokens)) return null;
  return { input: clampTokens(u.prompt_tokens), output: clampTokens(u.completion_tokens) };
}

/** The public JSON shape: prices in USD per 1M tokens, each with its provenance. */
export function chatPricesJson(prices: ChatPrice[]): ChatPriceJson[] {
  return prices.map((p) => ({
    model: p.model,
    input_usd_per_1m_tokens: microsToUsd(p.input_micros_per_1m),
    output_usd_per_1m_tokens: microsToUsd(p.output_micros_per_1m),
    max_output_tokens: p.max_output_tokens,
    source: p.source,
    ...(p.note !== undefined ? { note: p.note } : {}),
  }));
}

const FIELDS = new Set(["model", "input_usd_per_1m_tokens", "output_usd_per_1m_tokens", "max_output_tokens", "source", "note"]);
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/**
 * Parses an operator's `chat_prices` (the `chatPricesJson` shape). Models are unique; prices ≥ 0 with
 * at most 6 decimals; `source` defaults to "published" (a price the operator sets is the one they publish).
 */
export function parseChatPrices(input: unknown): { ok: true; prices: ChatPrice[] } | { ok: false; issues: FieldIssue[] } {
  if (!Array.isArray(input)) return { ok: false, issues: [{ field: "chat_prices", message: "must be an array of chat prices" }] };
  const issues: FieldIssue[] = [];
  const prices: ChatPrice[] = [];
  const seen = new Map<string, number>();
  input.forEach((raw: unknown, i: number) => {
    const at = `chat_prices[${i}]`;
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
      issues.push({ field: at, message: "must be an object" });
      return;
    }
    const e = raw as Record<string, unknown>;
    const before = issues.length;
    for (const key of Object.keys(e)) if (!FIELDS.has(key)) issues.push({ field: `${at}.${key}`, message: "unknown field" });
    if (typeof e.model !== "string" || !MODEL_ID.test(e.model)) issues.push({ field: `${at}.model`, message: "must be a model id" });
    else if (seen.has(e.model)) issues.push({ field: `${at}.model`, message: `duplicate of chat_prices[${seen.get(e.model)}]` });
    else seen.set(e.model, i);
    const input = usdPer1m(e.input_usd_per_1m_tokens, `${at}.input_usd_per_1m_tokens`, issues);
    const output = usdPer1m(e.output_usd_per_1m_tokens, `${at}.output_usd_per_1m_tokens`, issues);
    const cap = e.max_output_tokens ?? 16_384;
    if (typeof cap !== "number" || !Number.isInteger(cap) || cap < 1 || cap > MAX_TOKENS) {
      issues.push({ field: `${at}.max_output_tokens`, message: `must be an integer from 1 to ${MAX_TOKENS}` });
    }
    if (e.source !== undefined && e.source !== "published" && e.source !== "provisional")
      issues.push({ field: `${at}.source`, message: 'must be "published" or "provisional"' });
    if (e.note !== undefined && (typeof e.note !== "string" || e.note.length > 500))
      issues.push({ field: `${at}.note`, message: "must be a string of at most 500 characters" });
    if (issues.length > before || input === undefined || output === undefined) return;
    prices.push({
      model: e.model as string,
      input_micros_per_1m: input,
      output_micros_per_1m: output,
      max_output_tokens: cap as number,
      source: (e.source as PriceSource | undefined) ?? "published",
      ...(typeof e.note === "string" ? { note: e.note } : {}),
    });
  });
  return issues.length ? { ok: false, issues } : { ok: true, prices };
}

function usdPer1m(value: unknown, field: string, issues: FieldIssue[]): Micros | undefined {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return void issues.push({ field, message: "must be a number of USD ≥ 0" });
  if (Number(value.toFixed(6)) !== value || value > 1_000_000)
    return void issues.push({ field, message: "must have at most 6 decimals and be at most 1 000 000" });
  return usdToMicros(value);
}
