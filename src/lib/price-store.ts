import type { Config } from "../env";
import type { Endpoint, HailuoRequest } from "../domain/hailuo";
import { centsToMicros, type Micros } from "../domain/money";
import { DEFAULT_PRICE_TABLE, findPrice, type PriceTable } from "../domain/pricing";
import { AppError } from "./errors";
import { DEFAULT_CHAT_PRICES, type ChatPrice } from "../domain/chat-pricing";

const KV_KEY = "prices";
const MEMO_MS = 10_000;
let memo: { table: PriceTable; overridden: boolean; at: number } | null = null;

/** The active price table: the operator's override from KV, else the default (SPEC §2). Memoised briefly per isolate. */
export async function activePriceTable(kv: KVNamespace): Promise<{ table: PriceTable; overridden: boolean }> {
  if (memo && Date.now() - memo.at < MEMO_MS) return memo;
  const override = await kv.get<PriceTable>(KV_KEY, { type: "json", cacheTtl: 30 });
  memo = { table: override ?? DEFAULT_PRICE_TABLE, overridden: override !== null, at: Date.now() };
  return memo;
}

/** Stores an operator override (already validated) and makes it active in this isolate at once. */
export async function savePriceTable(kv: KVNamespace, table: PriceTable): Promise<void> {
  await kv.put(KV_KEY, JSON.stringify(table));
  memo = { table, overridden: true, at: Date.now() };
}

/** An estimate: integer micros, and where the number came from. */
export interface Estimate {
  micros: Micros;
  source: "published" | "provisional" | "quote";
}

/** What pricing needs of RunAPI in `quote` mode (the upstream client is one). */
export interface PriceQuoter {
  priceQuoteCents(endpoint: Endpoint, model: string, params: Record<string, unknown>): Promise<number>;
}

/**
 * Prices a validated request. In `quote` mode RunAPI's price_quotes endpoint gives the
 * reservation amount; when that call fails the table answers instead.
 */
export async function estimate(kv: KVNamespace, config: Config, client: PriceQuoter, req: HailuoRequest): Promise<Estimate> {
  if (config.pricingMode === "quote") {
    try {
      const params: Record<string, unknown> = { duration_seconds: req.duration_seconds };
      if (req.endpoint === "image_to_video") params.output_resolution = req.output_resolution;
      const cents = await client.priceQuoteCents(req.endpoint, req.model, params);
      return { micros: centsToMicros(cents), source: "quote" };
    } catch {
      // fall back to the table
    }
  }
  const { table } = await activePriceTable(kv);
  const cell = findPrice(table, req);
  if (!cell) throw new AppError("misconfigured", `No price is configured for ${req.model} at ${req.duration_seconds} s ${req.output_resolution}`);
  return { micros: cell.price_micros, source: cell.source };
}

const CHAT_KV_KEY = "chat_prices";
let chatMemo: { prices: ChatPrice[]; overridden: boolean; at: number } | null = null;

/** The active chat prices: the operator's override from KV, else the defaults. Memoised briefly per isolate. */
export async function activeChatPrices(kv: KVNamespace): Promise<{ prices: ChatPrice[]; overridden: boolean }> {
  if (chatMemo && Date.now() - chatMemo.at < MEMO_MS) return chatMemo;
  const override = await kv.get<ChatPrice[]>(CHAT_KV_KEY, { type: "json", cacheTtl: 30 });
  chatMemo = { prices: override ?? DEFAULT_CHAT_PRICES, overridden: override !== null, at: Date.now() };
  return chatMemo;
}

/** Stores an operator's chat prices (already validated) and makes them active in this isolate at once. */
export async function saveChatPrices(kv: KVNamespace, prices: ChatPrice[]): Promise<void> {
  await kv.put(CHAT_KV_KEY, JSON.stringify(prices));
  chatMemo = { prices, overridden: true, at: Date.now() };
}
