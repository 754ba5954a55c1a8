import type { FieldIssue } from "../lib/errors";
import { MODEL_IDS, isModelId, validCombinations, type Duration, type HailuoRequest, type ModelId, type Resolution } from "./hailuo";
import { microsToUsd, usdToMicros, type Micros } from "./money";

/** Where a price comes from: RunAPI (or the operator) publishes it, or it is our provisional estimate. */
export type PriceSource = "published" | "provisional";
export const PRICE_SOURCES: readonly PriceSource[] = ["published", "provisional"];

/** The price of one clip shape. */
export interface PriceCell {
  model: ModelId;
  duration_seconds: Duration;
  output_resolution: Resolution;
  price_micros: Micros;
  source: PriceSource;
  note?: string;
}

export type PriceTable = PriceCell[];

/** The public JSON shape of a price table (`GET /api/v1/prices`, `GET/PUT /admin/v1/prices`). */
export interface PriceTableJson {
  currency: "USD";
  prices: Array<{
    model: ModelId;
    duration_seconds: Duration;
    output_resolution: Resolution;
    price_usd: number;
    source: PriceSource;
    note?: string;
  }>;
}

export const MAX_NOTE_CHARS = 500;

const HERMES_PAGE = "RunAPI Hermes×Hailuo page";
const UPPER_BOUND = "provisional upper bound (other aggregators list $0.48–0.60)";

function cell(model: ModelId, duration_seconds: Duration, output_resolution: Resolution, price_micros: Micros, source: PriceSource, note: string): PriceCell {
  return { model, duration_seconds, output_resolution, price_micros, source, note };
}

/**
 * SPEC §2's default table, USD per clip in micro-dollars. A cell is `published` only where the SPEC's
 * source column names a RunAPI page for that very cell; every other cell is a provisional estimate.
 */
export const DEFAULT_PRICE_TABLE: PriceTable = [
  cell("hailuo-02-text-to-video-standard", 6, "768p", 300_000, "published", HERMES_PAGE),
  cell("hailuo-02-text-to-video-standard", 10, "768p", 500_000, "published", HERMES_PAGE),
  cell("hailuo-02-text-to-video-pro", 6, "1080p", 600_000, "provisional", UPPER_BOUND),
  cell("hailuo-02-image-to-video-standard", 6, "512p", 120_000, "published", 'RunAPI model page ("from" price)'),
  cell("hailuo-02-image-to-video-standard", 10, "512p", 200_000, "provisional", "provisional estimate"),
  cell("hailuo-02-image-to-video-standard", 6, "768p", 300_000, "provisional", "provisional estimate"),
  cell("hailuo-02-image-to-video-standard", 10, "768p", 500_000, "provisional", "provisional estimate"),
  cell("hailuo-02-image-to-video-pro", 6, "1080p", 600_000, "provisional", "provisional upper bound"),
  cell("hailuo-2.3-image-to-video-standard", 6, "768p", 500_000, "published", "RunAPI model page (price_from_cents: 50)"),
  cell("hailuo-2.3-image-to-video-standard", 10, "768p", 1_000_000, "provisional", "provisional estimate"),
  cell("hailuo-2.3-image-to-video-standard", 6, "1080p", 900_000, "provisional", "provisional estimate"),
  cell("hailuo-2.3-image-to-video-pro", 6, "768p", 900_000, "provisional", "provisional upper bound"),
  cell("hailuo-2.3-image-to-video-pro", 10, "768p", 1_600_000, "provisional", "provisional upper bound"),
  cell("hailuo-2.3-image-to-video-pro", 6, "1080p", 1_000_000, "provisional", "provisional upper bound"),
];

/** The cell that prices a request, if the table has one. */
export function findPrice(table: PriceTable, req: Pick<HailuoRequest, "model" | "duration_seconds" | "output_resolution">): PriceCell | undefined {
  return table.find((c) => c.model === req.model && c.duration_seconds === req.duration_seconds && c.output_resolution === req.output_resolution);
}

/** The public JSON shape: prices in USD (exact to 6 decimals), each with its provenance. */
export function priceTableJson(table: PriceTable): PriceTableJson {
  return {
    currency: "USD",
    prices: table.map((c) => ({
      model: c.model,
      duration_seconds: c.duration_seconds,
      output_resolution: c.output_resolution,
      price_usd: microsToUsd(c.price_micros),
      source: c.source,
      ...(c.note !== undefined ? { note: c.note } : {}),
    })),
  };
}

const TOP_FIELDS = new Set(["currency", "prices"]);
const CELL_FIELDS = new Set(["model", "duration_seconds", "output_resolution", "price_usd", "source", "note"]);

const cellKey = (model: string, duration: unknown, resolution: unknown) => `${model}|${String(duration)}|${String(resolution)}`;

/**
 * Parse an operator override (the `priceTableJson` shape, prices in USD). Every combination from
 * `validCombinations()` must be priced exactly once; prices are ≥ 0 with at most 6 decimals.
 * `source` defaults to "published": a price the operator sets is the price they publish to tenants;
 * they may mark a cell "provisional" themselves. Round-tripping `priceTableJson` keeps each source.
 * The result is in `validCombinations()` order.
 */
export function parsePriceTable(input: unknown): { ok: true; table: PriceTable } | { ok: false; issues: FieldIssue[] } {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, issues: [{ field: "", message: 'must be a JSON object {"currency":"USD","prices":[…]}' }] };
  }
  const body = input as Record<string, unknown>;
  const issues: FieldIssue[] = [];
  const issue = (field: string, message: string) => issues.push({ field, message });

  for (const key of Object.keys(body)) if (!TOP_FIELDS.has(key)) issue(key, "unknown field");
  if (body.currency !== undefined && body.currency !== "USD") issue("currency", 'must be "USD"');
  if (!Array.isArray(body.prices)) {
    issue("prices", "must be an array of price cells");
    return { ok: false, issues };
  }

  const valid = new Map(validCombinations().map((c) => [cellKey(c.model, c.duration_seconds, c.output_resolution), c]));
  const seen = new Map<string, number>();
  const cells = new Map<string, PriceCell>();

  body.prices.forEach((raw: unknown, i: number) => {
    const at = `prices[${i}]`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      issue(at, "must be an object");
      return;
    }
    const entry = raw as Record<string, unknown>;
    for (const key of Object.keys(entry)) if (!CELL_FIELDS.has(key)) issue(`${at}.${key}`, "unknown field");

    const { model, duration_seconds, output_resolution, price_usd, source, note } = entry;
    let shapeOk = true;
    if (typeof model !== "string" || !isModelId(model)) {
      issue(`${at}.model`, `unknown model; models are ${MODEL_IDS.join(", ")}`);
      shapeOk = false;
    }
    if (typeof duration_seconds !== "number") {
      issue(`${at}.duration_seconds`, "must be a number of seconds");
      shapeOk = false;
    }
    if (typeof output_resolution !== "string") {
      issue(`${at}.output_resolution`, "must be a string such as 768p");
      shapeOk = false;
    }
    const price = checkPrice(price_usd, `${at}.price_usd`, issue);
    if (source !== undefined && !PRICE_SOURCES.includes(source as PriceSource)) issue(`${at}.source`, 'must be "published" or "provisional"');
    if (note !== undefined && (typeof note !== "string" || note.length > MAX_NOTE_CHARS)) {
      issue(`${at}.note`, `must be a string of at most ${MAX_NOTE_CHARS} characters`);
    }
    if (!shapeOk) return;

    const key = cellKey(model as string, duration_seconds, output_resolution);
    const combo = valid.get(key);
    if (!combo) {
      issue(at, `${model} has no ${String(duration_seconds)} s ${String(output_resolution)} option`);
      return;
    }
    const first = seen.get(key);
    if (first !== undefined) {
      issue(at, `duplicate of prices[${first}]`);
      return;
    }
    seen.set(key, i);
    if (price === undefined) return;
    const parsed: PriceCell = { ...combo, price_micros: price, source: (source as PriceSource | undefined) ?? "published" };
    if (typeof note === "string") parsed.note = note;
    cells.set(key, parsed);
  });

  for (const [key, c] of valid) {
    if (!seen.has(key)) issue("prices", `missing price for ${c.model} ${c.duration_seconds} s ${c.output_resolution}`);
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, table: [...valid.keys()].map((key) => cells.get(key)!) };
}

/** A USD price → micros: a finite number ≥ 0 with at most 6 decimals (the one float → integer boundary). */
function checkPrice(value: unknown, field: string, issue: (field: string, message: string) => void): Micros | undefined {
  if (typeof value !== "number" || !Number.isFinite(value)) return void issue(field, "must be a number (USD)");
  if (value < 0) return void issue(field, "must be ≥ 0");
  // A number has at most 6 decimals when rounding it to 6 decimals gives the same number back.
  if (Number(value.toFixed(6)) !== value) return void issue(field, "must have at most 6 decimals");
  try {
    return usdToMicros(value);
  } catch {
    return void issue(field, "is too large");
  }
}
