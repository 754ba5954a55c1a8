import type { ChatRates } from "./price-schedule";
import type { Micros } from "./money";

/** Output tokens reserved when neither the request nor the schedule gives a bound (a typical model's cap). */
export const DEFAULT_OUTPUT_CAP = 16_384;

/** Tokens above this are not believed (usage from upstream, caps from clients): it keeps every product a safe integer. */
export const MAX_TOKENS = 10_000_000;
/** Per message, the chat template's own tokens (role, separators), on top of its bytes. */
const TOKENS_PER_MESSAGE = 8;
/** An image part costs tokens its URL's bytes do not show (OpenAI: at most ~1 500 per high-detail image). */
const TOKENS_PER_IMAGE = 2_000;

const clampTokens = (n: number) => Math.min(Math.max(Math.trunc(n), 0), MAX_TOKENS);

/** RunAPI's cost of token counts at a model's rates, rounded up to the next micro-dollar. */
export function chatCostMicros(price: ChatRates, inputTokens: number, outputTokens: number): Micros {
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

/**
 * The output tokens a request may produce, for each of its `n` choices: `min(max_tokens | max_completion_tokens,
 * the model's output cap)` (SPEC §12: Hermes asks 65 536 on every turn; a model never writes past its cap).
 */
export function outputTokenBound(price: ChatRates, body: { max_tokens?: unknown; max_completion_tokens?: unknown; n?: unknown }): number {
  const asked = body.max_completion_tokens ?? body.max_tokens;
  const cap = price.max_output_tokens ?? DEFAULT_OUTPUT_CAP;
  const perChoice = typeof asked === "number" && Number.isInteger(asked) && asked > 0 ? Math.min(clampTokens(asked), price.max_output_tokens ?? asked) : cap;
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
