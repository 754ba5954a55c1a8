import { Hono } from "hono";
import { z } from "zod";
import { readJson, SimError, type SimApp } from "./env";
import type { HailuoEndpoint } from "./progress";

type Resolution = "512p" | "768p" | "1080p";

interface ModelPricing {
  action: HailuoEndpoint;
  defaultDuration: 6 | 10;
  defaultResolution: Resolution;
  /** Cents per clip, keyed `${resolution}/${duration}`. */
  cents: Partial<Record<`${Resolution}/${6 | 10}`, number>>;
}

/** The simulator's own price table (cents per clip), as RunAPI's price_quotes would answer it. */
export const SIM_PRICES: Record<string, ModelPricing> = {
  "hailuo-02-text-to-video-standard": { action: "text_to_video", defaultDuration: 10, defaultResolution: "768p", cents: { "768p/6": 30, "768p/10": 50 } },
  "hailuo-02-text-to-video-pro": { action: "text_to_video", defaultDuration: 6, defaultResolution: "1080p", cents: { "1080p/6": 60 } },
  "hailuo-02-image-to-video-standard": {
    action: "image_to_video",
    defaultDuration: 10,
    defaultResolution: "768p",
    cents: { "512p/6": 12, "512p/10": 20, "768p/6": 30, "768p/10": 50 },
  },
  "hailuo-02-image-to-video-pro": { action: "image_to_video", defaultDuration: 6, defaultResolution: "1080p", cents: { "1080p/6": 60 } },
  "hailuo-2.3-image-to-video-standard": {
    action: "image_to_video",
    defaultDuration: 10,
    defaultResolution: "768p",
    cents: { "768p/6": 50, "768p/10": 100, "1080p/6": 90 },
  },
  "hailuo-2.3-image-to-video-pro": {
    action: "image_to_video",
    defaultDuration: 6,
    defaultResolution: "1080p",
    cents: { "768p/6": 90, "768p/10": 160, "1080p/6": 100 },
  },
};

/** How long a quote is valid. */
export const QUOTE_TTL_MS = 15 * 60 * 1000;

const QuoteSchema = z.object({
  service: z.literal("hailuo"),
  action: z.enum(["text_to_video", "image_to_video"]),
  model: z.string().transform((m) => m.replace(/^hailuo-2-3-/, "hailuo-2.3-")),
  params: z
    .object({
      duration_seconds: z.union([z.literal(6), z.literal(10), z.enum(["6", "10"]).transform(Number)]).optional(),
      output_resolution: z
        .string()
        .transform((r) => r.toLowerCase())
        .optional(),
    })
    .loose()
    .default({}),
});

/** The reservation in cents for a quote request, or the reason there is none. */
export function quoteCents(model: string, action: HailuoEndpoint, duration?: number, resolution?: string): number | string {
  const pricing = SIM_PRICES[model];
  if (!pricing) return `Unknown model ${model}`;
  if (pricing.action !== action) return `Model ${model} is not available on ${action}`;
  const key = `${resolution ?? pricing.defaultResolution}/${duration ?? pricing.defaultDuration}`;
  const cents = (pricing.cents as Record<string, number | undefined>)[key];
  return cents ?? `No price for ${model} at ${key.replace("/", " ")} s`;
}

/** RunAPI's account routes: price quotes and balance. */
export const account = new Hono<SimApp>()
  .post("/price_quotes", async (c) => {
    const parsed = QuoteSchema.safeParse(await readJson(c));
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
      throw new SimError(400, "invalid_request", message);
    }
    const { action, model, params } = parsed.data;
    const cents = quoteCents(model, action, params.duration_seconds, params.output_resolution);
    if (typeof cents === "string") throw new SimError(400, "invalid_request", cents);
    return c.json({
      price_quote: {
        id: `pq_${crypto.randomUUID()}`,
        reservation_amount_cents: cents,
        currency: "USD",
        model,
        expires_at: new Date(Date.now() + QUOTE_TTL_MS).toISOString(),
      },
    });
  })
  .get("/me/balance", (c) => c.json({ balance_cents: 100_000, currency: "USD" }));
