import { afterAll, describe, expect, it } from "vitest";
import { BUNDLED_SCHEDULE } from "../src/catalog/schedule.gen";
import { sim, simApi } from "./helpers";

// RunAPI's live price schedule from the simulator's own copy: full shape, strong ETag, 304, filters, and the
// control route tests change RunAPI's prices with (the ETag moves with them).

type Json = Record<string, any>;

const schedules = (query = "", headers: Record<string, string> = {}) => simApi(`/api/v1/price_schedules${query}`, { headers });
const patch = async (body: Json) => {
  const res = await sim("/__sim/prices", { method: "POST", body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { etag: string; as_of: string; count: number };
};
const quoteCents = async (params: Json) => {
  const res = await simApi("/api/v1/price_quotes", { body: { service: "hailuo", action: "text_to_video", model: "hailuo-02-text-to-video-standard", params } });
  return res.status === 200 ? ((await res.json()) as Json).price_quote.reservation_amount_cents : res.status;
};

describe("GET /api/v1/price_schedules", () => {
  afterAll(() => patch({ reset: true }));

  it("serves the bundled schedule in RunAPI's full live shape", async () => {
    const res = await schedules();
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.as_of).toBe(BUNDLED_SCHEDULE.as_of);
    expect(body.price_schedules).toHaveLength(BUNDLED_SCHEDULE.price_schedules.length);
    const t2v = body.price_schedules.find((e: Json) => e.model === "hailuo-02-text-to-video-standard");
    expect(t2v).toEqual({
      service: "hailuo",
      action: "text_to_video",
      model: "hailuo-02-text-to-video-standard",
      pricing_status: "available",
      catalog_status: "active",
      currency: "USD",
      billing_unit: "task",
      billing_strategy: "per_task",
      unit_price_cents: 50,
      input_price_per_1m_cents: null,
      output_price_per_1m_cents: null,
      cache_read_price_per_1m_cents: null,
      cache_write_price_per_1m_cents: null,
      cache_write_5m_price_per_1m_cents: null,
      cache_write_1h_price_per_1m_cents: null,
      billing_config: { key: "duration_seconds", overrides: { "6": 30, "10": 50 } },
    });
    const chat = body.price_schedules.find((e: Json) => e.model === "gpt-4o-mini");
    expect(chat).toMatchObject({
      service: "chat",
      action: "chat_completions",
      input_price_per_1m_cents: 15,
      output_price_per_1m_cents: 60,
      unit_price_cents: null,
    });
  });

  it("is public like RunAPI's, but a wrong key is still refused", async () => {
    expect((await sim("/api/v1/price_schedules")).status).toBe(200);
    expect((await sim("/api/v1/price_schedules", { headers: { Authorization: "Bearer sk_wrong" } })).status).toBe(401);
  });

  it("has a strong ETag and answers If-None-Match with 304", async () => {
    const first = await schedules();
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    const again = await schedules("", { "If-None-Match": etag });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    expect(await again.text()).toBe("");
    expect((await schedules("", { "If-None-Match": `W/${etag}` })).status).toBe(304);
    expect((await schedules("", { "If-None-Match": '"something-else"' })).status).toBe(200);
  });

  it("filters by service (either spelling), action and model, each answer with its own ETag", async () => {
    const all = await schedules();
    const veo = await schedules("?service=veo_3_1");
    const entries = ((await veo.json()) as Json).price_schedules as Json[];
    expect(entries.length).toBeGreaterThan(1);
    expect(new Set(entries.map((e) => e.service))).toEqual(new Set(["veo-3-1"]));
    expect(veo.headers.get("etag")).not.toBe(all.headers.get("etag"));
    const one = (await (await schedules("?service=hailuo&action=image_to_video&model=hailuo-2.3-image-to-video-pro")).json()) as Json;
    expect(one.price_schedules.map((e: Json) => e.model)).toEqual(["hailuo-2.3-image-to-video-pro"]);
  });

  it("changes when a test changes RunAPI's prices: new ETag, new entries, new quotes", async () => {
    const before = (await schedules()).headers.get("etag")!;
    expect(await quoteCents({ duration_seconds: 6 })).toBe(30);
    const changed = await patch({
      set: [
        {
          service: "hailuo",
          action: "text_to_video",
          model: "hailuo-02-text-to-video-standard",
          unit_price_cents: 55,
          billing_config: { key: "duration_seconds", overrides: { "6": 33, "10": 55 } },
        },
      ],
    });
    expect(changed.etag).not.toBe(before);
    const now = await schedules("", { "If-None-Match": before });
    expect(now.status).toBe(200);
    expect(now.headers.get("etag")).toBe(changed.etag);
    expect(((await now.json()) as Json).as_of).toBe(changed.as_of);
    expect(await quoteCents({ duration_seconds: 6 })).toBe(33);

    const removed = await patch({ remove: [{ service: "hailuo", action: "text_to_video", model: "hailuo-02-text-to-video-standard" }] });
    expect(removed.count).toBe(changed.count - 1);
    expect(await quoteCents({})).toBe(422);

    const reset = await patch({ reset: true });
    expect(reset.etag).toBe(before);
    expect(await quoteCents({ duration_seconds: 6 })).toBe(30);
  });

  it("prices a task made after a change at the new price", async () => {
    await patch({ set: [{ service: "hailuo", action: "text_to_video", model: "hailuo-02-text-to-video-pro", unit_price_cents: 61 }] });
    const created = (await (await simApi("/api/v1/hailuo/text_to_video", { body: { model: "hailuo-02-text-to-video-pro", prompt: "x" } })).json()) as Json;
    const done = await sim(`/__sim/tasks/${created.id}/advance`, { method: "POST", body: JSON.stringify({ status: "completed" }) });
    expect(((await done.json()) as Json).cost_cents).toBe(61);
    await patch({ reset: true });
  });

  it("refuses a malformed change", async () => {
    const res = await sim("/__sim/prices", { method: "POST", body: JSON.stringify({ set: [{ service: "hailuo" }] }) });
    expect(res.status).toBe(400);
  });
});
