import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig, type Bindings } from "../src/env";
import { parseHailuoRequest, type HailuoRequest } from "../src/domain/hailuo";
import { estimate } from "../src/lib/price-store";
import { RunApiClient } from "../src/upstream/runapi";

const bindings = env as Bindings;
const quoteConfig = { ...loadConfig(bindings), pricingMode: "quote" as const };

function request(body: Record<string, unknown>): HailuoRequest {
  const parsed = parseHailuoRequest("image_to_video", body, { allowHttp: false });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.request;
}

const req = request({
  model: "hailuo-02-image-to-video-standard",
  prompt: "x",
  first_frame_image_url: "https://i.test/a.png",
  duration_seconds: 6,
  output_resolution: "512p",
});

describe("pricing mode", () => {
  it("table mode prices from the table without asking RunAPI", async () => {
    const never = new RunApiClient(loadConfig(bindings), { fetch: () => Promise.reject(new Error("must not be called")) });
    expect(await estimate(bindings.TENANTS, loadConfig(bindings), never, req)).toEqual({ micros: 120_000, source: "published" });
  });

  it("quote mode reserves RunAPI's quoted amount", async () => {
    let asked: unknown = null;
    const client = new RunApiClient(quoteConfig, {
      fetch: async (input, init) => {
        asked = JSON.parse(String(init?.body));
        return bindings.RUNAPI!.fetch(input as string, init);
      },
    });
    expect(await estimate(bindings.TENANTS, quoteConfig, client, req)).toEqual({ micros: 120_000, source: "quote" });
    expect(asked).toEqual({ service: "hailuo", action: "image_to_video", model: req.model, params: { duration_seconds: 6, output_resolution: "512p" } });
  });

  it("quote mode falls back to the table when RunAPI's quote fails", async () => {
    const down = new RunApiClient(quoteConfig, { fetch: async () => new Response("{}", { status: 503 }) });
    expect(await estimate(bindings.TENANTS, { ...quoteConfig, upstreamRetryBaseMs: 0 }, down, req)).toEqual({ micros: 120_000, source: "published" });
  });
});
