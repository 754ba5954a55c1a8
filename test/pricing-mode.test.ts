import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { findAction } from "../src/catalog/catalog";
import { validateRequest } from "../src/catalog/validate";
import { loadConfig, type Bindings } from "../src/env";
import { AppError } from "../src/lib/errors";
import { priceRequest, type PriceQuoter } from "../src/lib/pricing";
import { RunApiClient } from "../src/upstream/runapi";

const bindings = env as Bindings;
const tableConfig = loadConfig(bindings);
const quoteConfig = { ...tableConfig, pricingMode: "quote" as const };

function valid(service: string, action: string, body: Record<string, unknown>) {
  const a = findAction(service, action)!;
  const parsed = validateRequest(a, body, { allowHttp: false });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return { action: a, ...parsed.value };
}

const i2vBody = {
  model: "hailuo-02-image-to-video-standard",
  prompt: "x",
  first_frame_image_url: "https://i.test/a.png",
  duration_seconds: 6,
  output_resolution: "512p",
};
const i2v = valid("hailuo", "image_to_video", i2vBody);

/** A quoter that answers a fixed number of cents (or fails), counting its calls. */
function quoter(answer: number | Error): PriceQuoter & { calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    priceQuoteCents: async (req) => {
      calls.push(req);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

const price = (config: typeof tableConfig, q: PriceQuoter, v: ReturnType<typeof valid>, markup?: { markup_percent: number }) =>
  priceRequest(bindings.TENANTS, config, q, v.action, v.request, v.effective, markup);

describe("pricing a request", () => {
  it("table mode prices from the schedule without asking RunAPI", async () => {
    const never = quoter(new Error("must not be called"));
    expect(await price(tableConfig, never, i2v)).toMatchObject({ micros: 120_000, costMicros: 120_000, source: "published" });
    expect(never.calls).toHaveLength(0);
  });

  it("the tenant's markup is on top of RunAPI's cost", async () => {
    expect(await price(tableConfig, quoter(new Error("no")), i2v, { markup_percent: 25 })).toMatchObject({
      micros: 150_000,
      costMicros: 120_000,
      markupPercent: 25,
    });
  });

  it("quote mode reserves RunAPI's quoted amount, asked with the effective params", async () => {
    let asked: unknown = null;
    const client = new RunApiClient(quoteConfig, {
      fetch: async (input, init) => {
        asked = JSON.parse(String(init?.body));
        return bindings.RUNAPI!.fetch(input as string, init);
      },
    });
    expect(await price(quoteConfig, client, i2v)).toMatchObject({ micros: 120_000, source: "quote" });
    expect(asked).toMatchObject({ service: "hailuo", action: "image_to_video", model: "hailuo-02-image-to-video-standard" });
    expect((asked as { params: Record<string, unknown> }).params).toMatchObject({ duration_seconds: 6, output_resolution: "512p" });
  });

  // Quotes are cached per normalised request, so each test below prices a request no other test does.
  it("quote mode falls back to the schedule when RunAPI's quote fails", async () => {
    const i2v10 = valid("hailuo", "image_to_video", { ...i2vBody, duration_seconds: 10 });
    expect(await price(quoteConfig, quoter(new Error("down")), i2v10)).toMatchObject({ micros: 200_000, source: "published" });
  });

  it("a quote of 0 is no price: never a free create (issue 17 #9)", async () => {
    const t2v = valid("hailuo", "text_to_video", { model: "hailuo-02-text-to-video-standard", prompt: "zero", duration_seconds: 6 });
    expect(await price(quoteConfig, quoter(0), t2v)).toMatchObject({ micros: 300_000, source: "published" });
    // An action the schedule cannot price and whose quote is 0: refused, never forwarded free.
    const motion = valid("kling", "motion_control", {
      model: "kling-v2.6",
      source_image_url: "https://i.test/b.png",
      reference_video_url: "https://i.test/b.mp4",
      output_resolution: "1080p",
      character_orientation: "video",
    });
    const err = await price(tableConfig, quoter(0), motion).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("pricing_unavailable");
  });

  it("where the schedule cannot price exactly, RunAPI's quote; without one, the most the schedule allows", async () => {
    // grok-imagine-video-1.5-fast is priced by a duration band the request does not name: 18, 45 or 75¢.
    const body = { model: "grok-imagine-video-1.5-fast", prompt: "a band" };
    expect(await price(tableConfig, quoter(18), valid("grok-imagine", "text_to_video", body))).toMatchObject({ micros: 180_000, source: "quote" });
    const other = valid("grok-imagine", "text_to_video", { ...body, prompt: "another band" });
    expect(await price(tableConfig, quoter(new Error("down")), other)).toMatchObject({ micros: 750_000, source: "schedule_max" });
  });

  it("an action whose model RunAPI picks (from the source task) is exact when every model costs the same", async () => {
    const extend = valid("kling", "extend_video", { source_task_id: "7d3c0f0e-1111-4222-8333-944445555666" });
    expect(await price(tableConfig, quoter(new Error("never asked")), extend)).toMatchObject({ micros: 42_000, source: "published" });
  });

  it("quotes are cached per normalised params", async () => {
    // RunAPI prices kling-v2.6 motion control from the output's length: only a quote knows it.
    const motion = valid("kling", "motion_control", {
      model: "kling-v2.6",
      source_image_url: "https://i.test/a.png",
      reference_video_url: "https://i.test/a.mp4",
      output_resolution: "720p",
      character_orientation: "image",
    });
    const q = quoter(33);
    expect(await price(tableConfig, q, motion)).toMatchObject({ micros: 330_000, source: "quote" });
    expect(await price(tableConfig, q, motion)).toMatchObject({ micros: 330_000, source: "quote" });
    expect(q.calls).toHaveLength(1);
  });
});
