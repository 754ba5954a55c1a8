import { describe, expect, it } from "vitest";
import { catalogSize } from "../src/catalog/catalog";
import { api, expectError, issueFields, json, proxy, tenantWithKey } from "./helpers";

// The catalog listing (GET /api/v1/models) and the chat model list (GET /v1/models), SPEC §12.

type Price = {
  currency: string;
  min_cents: number | null;
  max_cents: number | "quote" | null;
  billing_strategy: string;
  varies_with?: string[];
  unavailable?: string;
};
type Row = {
  model: string | null;
  service: string;
  action: string;
  modality: string;
  model_line: string;
  task_type: string;
  path: string;
  required_fields: string[];
  price: Price;
};
type Listing = { count: number; as_of: string; prices_as_of: string; currency: string; source: string; models: Row[] };

const listing = async (res: Response): Promise<Listing> => {
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Listing;
};
const row = (l: Listing, service: string, action: string, model: string | null) =>
  l.models.find((r) => r.service === service && r.action === action && r.model === model);

describe("GET /api/v1/models", () => {
  it("is public: every model × action of the catalog with modality, line, task type, path, required fields and price range", async () => {
    const all = await listing(await proxy("/api/v1/models"));
    expect(all.count).toBe(catalogSize().pairs);
    expect(all.models).toHaveLength(all.count);
    expect(all).toMatchObject({ currency: "USD", as_of: expect.any(String), prices_as_of: expect.any(String) });

    // Hailuo's per-duration override: 6 s $0.30, 10 s $0.50 (RunAPI's published prices).
    expect(row(all, "hailuo", "text_to_video", "hailuo-02-text-to-video-standard")).toEqual({
      model: "hailuo-02-text-to-video-standard",
      service: "hailuo",
      action: "text_to_video",
      modality: "video",
      model_line: expect.any(String),
      task_type: "asynchronous",
      path: "/api/v1/hailuo/text_to_video",
      required_fields: expect.arrayContaining(["prompt"]),
      price: {
        currency: "USD",
        min_cents: 30,
        max_cents: 50,
        billing_strategy: "per_task",
        billing_unit: "task",
        varies_with: ["duration_seconds"],
        source: "published",
      },
    });
    // A matrix: the least and the most cell.
    expect(row(all, "kling", "text_to_video", "kling-v2.6")!.price).toMatchObject({ min_cents: expect.any(Number), max_cents: expect.any(Number) });
    const kling = row(all, "kling", "text_to_video", "kling-v2.6")!.price;
    expect(kling.min_cents!).toBeLessThan(kling.max_cents as number);
    expect(kling.varies_with!.length).toBe(2);
    // Synchronous, modelless, free, and a price RunAPI sets per token (no bound: quoted at request time).
    expect(row(all, "openai-tts", "text_to_speech", "tts-1")).toMatchObject({
      task_type: "synchronous",
      modality: "audio",
      price: { min_cents: 4, max_cents: 4 },
    });
    expect(row(all, "grok-imagine", "upscale_image", null)).toMatchObject({
      path: "/api/v1/grok_imagine/upscale_image",
      price: { min_cents: 10, max_cents: 10 },
    });
    expect(row(all, "fish-audio", "list_voices", null)!.price).toMatchObject({ min_cents: 0, max_cents: 0, billing_strategy: "free" });
    expect(row(all, "gemini-tts", "text_to_speech", "gemini-2.5-pro-tts")!.price).toMatchObject({ max_cents: "quote", billing_strategy: "per_token" });
    // Chat models are not media models.
    expect(all.models.some((r) => r.model === "gpt-4o-mini")).toBe(false);
  });

  it("filters by modality, service (either spelling), action and model", async () => {
    const images = await listing(await proxy("/api/v1/models?modality=image"));
    expect(images.count).toBeGreaterThan(20);
    expect(images.models.every((r) => r.modality === "image")).toBe(true);
    expect(images.models.map((r) => r.model)).toContain("flux-dev");

    const veo = await listing(await proxy("/api/v1/models?service=veo_3_1"));
    expect(veo.models.map((r) => `${r.action}:${r.model}`).sort()).toEqual(
      ["extend_video:null", "text_to_video:veo-3.1", "text_to_video:veo-3.1-fast", "text_to_video:veo-3.1-lite", "upscale_video:null"].sort(),
    );
    const klingT2v = await listing(await proxy("/api/v1/models?service=kling&action=text_to_video"));
    expect(klingT2v.count).toBe(8);
    expect(klingT2v.models.every((r) => r.service === "kling" && r.action === "text_to_video")).toBe(true);

    const suno = await listing(await proxy("/api/v1/models?model=suno-v4"));
    expect(suno.models.map((r) => r.action)).toEqual(expect.arrayContaining(["text_to_music", "cover_audio"]));
    expect(suno.models.every((r) => r.model === "suno-v4")).toBe(true);

    expect((await listing(await proxy("/api/v1/models?service=no-such-service"))).count).toBe(0);
    const bad = await expectError(await proxy("/api/v1/models?modality=smell"), 400, "invalid_request");
    expect(issueFields(bad)).toEqual(["modality"]);
  });

  it("shows a tenant its own prices (its markup) and only the models it may use", async () => {
    const { key } = await tenantWithKey({ markup_percent: 100, allowed_models: ["kling/text_to_video", "flux-dev", "hailuo"] });
    const own = await listing(await api(key, "/api/v1/models"));
    expect(own.models.every((r) => (r.service === "kling" && r.action === "text_to_video") || r.model === "flux-dev" || r.service === "hailuo")).toBe(true);
    expect(
      own.models
        .filter((r) => r.model === "flux-dev")
        .map((r) => r.action)
        .sort(),
    ).toEqual(["remix_image", "text_to_image"]);
    expect(own.count).toBe(8 + 2 + 6);
    expect(row(own, "hailuo", "text_to_video", "hailuo-02-text-to-video-standard")!.price).toMatchObject({ min_cents: 60, max_cents: 100 });
    const publicKling = row(await listing(await proxy("/api/v1/models?service=kling")), "kling", "text_to_video", "kling-v2.6")!.price;
    expect(row(own, "kling", "text_to_video", "kling-v2.6")!.price).toMatchObject({
      min_cents: (publicKling.min_cents as number) * 2,
      max_cents: (publicKling.max_cents as number) * 2,
    });
    // A key, when sent, must be valid.
    await expectError(await proxy("/api/v1/models", { headers: { Authorization: "Bearer sk_wrong_wrong_wrong_wrong_wrong" } }), 401, "unauthorized");
  });

  it("answers 304 to a matching If-None-Match; the tag changes with the filters and the caller's terms", async () => {
    const first = await proxy("/api/v1/models?modality=audio");
    const etag = first.headers.get("ETag")!;
    expect(etag).toMatch(/^".+"$/);
    expect(first.headers.get("Cache-Control")).toContain("public");
    const again = await proxy("/api/v1/models?modality=audio", { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect((await proxy("/api/v1/models?modality=video")).headers.get("ETag")).not.toBe(etag);
    const { key } = await tenantWithKey({ markup_percent: 10 });
    const keyed = await api(key, "/api/v1/models?modality=audio", { headers: { "If-None-Match": etag } });
    expect(keyed.status).toBe(200);
    expect(keyed.headers.get("Cache-Control")).toContain("private");
  });
});

describe("GET /v1/models", () => {
  it("lists the schedule's chat models only, in OpenAI's shape, with or without a key", async () => {
    const open = await json(await proxy("/v1/models"));
    expect(open.object).toBe("list");
    expect(open.data.map((m: { id: string }) => m.id)).toEqual(["gpt-4o", "gpt-4o-mini"]);
    for (const m of open.data) expect(m).toEqual({ id: m.id, object: "model", created: expect.any(Number), owned_by: "runapi" });
    const { key } = await tenantWithKey();
    expect(await json(await api(key, "/v1/models"))).toEqual(open);
    const wrong = await expectError(await proxy("/v1/models", { headers: { Authorization: "Bearer sk_wrong_wrong_wrong_wrong_wrong" } }), 401, "unauthorized");
    expect(wrong).toMatchObject({ type: "authentication_error" });
  });

  it("answers one model, or a 404 in OpenAI's error shape", async () => {
    expect(await json(await proxy("/v1/models/gpt-4o-mini"))).toEqual({ id: "gpt-4o-mini", object: "model", created: expect.any(Number), owned_by: "runapi" });
    const media = await expectError(await proxy("/v1/models/kling-v2.6"), 404, "not_found");
    expect(media).toMatchObject({ type: "not_found_error", message: expect.stringContaining("kling-v2.6") });
    await expectError(await proxy("/v1/models/no/such/model"), 404, "not_found");
  });
});
