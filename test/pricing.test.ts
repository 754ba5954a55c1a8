import { describe, expect, it } from "vitest";
import { allActions, findAction } from "../src/catalog/catalog";
import { BUNDLED_SCHEDULE } from "../src/catalog/schedule.gen";
import type { PriceSchedule } from "../src/catalog/types";
import { validateRequest } from "../src/catalog/validate";
import { markupPercent, parseMarkup, withMarkup } from "../src/domain/markup";
import { chatRates, evaluate, indexSchedule, maxCents } from "../src/domain/price-schedule";

const index = indexSchedule(BUNDLED_SCHEDULE.price_schedules);

/** The bundled schedule's evaluation of a create body, as the create path does it (validated, defaults filled in). */
function priced(service: string, action: string, body: Record<string, unknown>) {
  const a = findAction(service, action)!;
  const parsed = validateRequest(a, body, { allowHttp: false });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const { request, effective } = parsed.value;
  return evaluate(index.entry(request.service, request.action, request.model), effective);
}

const frame = "https://img.test/a.png";
const entry = (over: Partial<PriceSchedule>): PriceSchedule => ({ service: "x", action: "y", model: "m", billing_strategy: "per_task", ...over });

describe("RunAPI's published Hailuo prices, evaluated from the bundled schedule (SPEC §2)", () => {
  it.each([
    ["text_to_video", { model: "hailuo-02-text-to-video-standard", duration_seconds: 6 }, 300_000],
    ["text_to_video", { model: "hailuo-02-text-to-video-standard" }, 500_000], // default 10 s
    ["text_to_video", { model: "hailuo-02-text-to-video-pro" }, 570_000],
    ["image_to_video", { model: "hailuo-02-image-to-video-standard", duration_seconds: 6, output_resolution: "512p", first_frame_image_url: frame }, 120_000],
    ["image_to_video", { model: "hailuo-02-image-to-video-standard", duration_seconds: 10, output_resolution: "512p", first_frame_image_url: frame }, 200_000],
    ["image_to_video", { model: "hailuo-02-image-to-video-standard", first_frame_image_url: frame }, 500_000], // 10 s 768p
    ["image_to_video", { model: "hailuo-02-image-to-video-pro", first_frame_image_url: frame }, 570_000],
    ["image_to_video", { model: "hailuo-2.3-image-to-video-standard", duration_seconds: 6, first_frame_image_url: frame }, 300_000],
    ["image_to_video", { model: "hailuo-2.3-image-to-video-standard", output_resolution: "1080p", first_frame_image_url: frame }, 500_000], // 1080p → 6 s
    ["image_to_video", { model: "hailuo-2.3-image-to-video-standard", duration_seconds: 10, first_frame_image_url: frame }, 500_000],
    ["image_to_video", { model: "hailuo-2.3-image-to-video-pro", first_frame_image_url: frame }, 800_000], // 6 s 1080p
    ["image_to_video", { model: "hailuo-2.3-image-to-video-pro", output_resolution: "768p", first_frame_image_url: frame }, 450_000],
    ["image_to_video", { model: "hailuo-2.3-image-to-video-pro", duration_seconds: 10, first_frame_image_url: frame }, 900_000], // 10 s → 768p
  ] as const)("hailuo %s %j costs %i µ$", (action, body, micros) => {
    expect(priced("hailuo", action, { prompt: "a cat", ...body })).toMatchObject({ kind: "exact", micros });
  });
});

describe("evaluating a schedule entry", () => {
  it("a flat price", () => {
    expect(evaluate(entry({ unit_price_cents: 17 }), {})).toMatchObject({ kind: "exact", micros: 170_000 });
  });

  it("key + overrides: the override for the value, else the unit price; fractional cents are exact", () => {
    const e = entry({ unit_price_cents: 16, billing_config: { key: "type", overrides: { split_stem: 62.5 } } });
    expect(evaluate(e, { type: "split_stem" })).toMatchObject({ kind: "exact", micros: 625_000 });
    expect(evaluate(e, { type: "other" })).toMatchObject({ kind: "exact", micros: 160_000 });
  });

  it("keys + matrix, nested, with booleans and numbers as their strings and `any` matching every value", () => {
    const e = entry({
      unit_price_cents: 360,
      billing_config: {
        keys: ["input_mode", "duration_seconds", "enable_sound"],
        matrix: { generated: { "4": { true: 90, false: 50 } }, video: { any: { any: 240 } } },
      },
    });
    expect(evaluate(e, { input_mode: "generated", duration_seconds: 4, enable_sound: true })).toMatchObject({ micros: 900_000 });
    expect(evaluate(e, { input_mode: "generated", duration_seconds: 4, enable_sound: false })).toMatchObject({ micros: 500_000 });
    expect(evaluate(e, { input_mode: "video", duration_seconds: 9, enable_sound: false })).toMatchObject({ micros: 2_400_000 });
  });

  it("a value the request does not say, or a cell the matrix lacks, cannot be priced exactly: the most the entry allows", () => {
    const e = entry({ unit_price_cents: 30, billing_config: { keys: ["a", "b"], matrix: { "1": { x: 10, y: 20 } } } });
    expect(evaluate(e, { a: 1 })).toMatchObject({ kind: "inexact", maxMicros: 300_000 });
    expect(evaluate(e, { a: 2, b: "x" })).toMatchObject({ kind: "inexact", maxMicros: 300_000 });
  });

  it("a price RunAPI takes from the output (duration_source) is inexact, bounded by the entry's largest", () => {
    const e = entry({
      unit_price_cents: 12,
      billing_config: { key: "output_resolution", overrides: { "480p": 3, "720p": 12 }, duration_source: { kind: "response_body" } },
    });
    expect(evaluate(e, { output_resolution: "480p" })).toMatchObject({ kind: "inexact", maxMicros: 120_000 });
  });

  it("per-unit strategies multiply by the request's duration or output count; an unknown strategy is unbounded", () => {
    expect(evaluate(entry({ billing_strategy: "per_second", unit_price_cents: 2.5 }), { duration_seconds: 8 })).toMatchObject({
      kind: "exact",
      micros: 200_000,
    });
    expect(evaluate(entry({ billing_strategy: "per_output", unit_price_cents: 4 }), { num_images: 3 })).toMatchObject({ kind: "exact", micros: 120_000 });
    expect(evaluate(entry({ billing_strategy: "per_second", unit_price_cents: 2.5 }), {})).toMatchObject({ kind: "inexact", maxMicros: null });
    expect(evaluate(entry({ billing_strategy: "per_pixel", unit_price_cents: 1 }), {})).toMatchObject({ kind: "inexact", maxMicros: null });
  });

  it("0 is never a price: free only where the schedule says so", () => {
    expect(evaluate(entry({ unit_price_cents: 0 }), {})).toMatchObject({ kind: "unavailable" });
    expect(evaluate(entry({ billing_strategy: "free", unit_price_cents: 0 }), {})).toMatchObject({ kind: "free" });
    expect(evaluate(entry({ unit_price_cents: 10, billing_config: { key: "k", overrides: { a: 0 } } }), { k: "a" })).toMatchObject({ kind: "unavailable" });
  });

  it("no entry, a pending price or a disabled action is unavailable", () => {
    expect(evaluate(undefined, {})).toMatchObject({ kind: "unavailable" });
    expect(evaluate(entry({ unit_price_cents: 10, pricing_status: "pending" }), {})).toMatchObject({ kind: "unavailable" });
    expect(evaluate(entry({ unit_price_cents: 10, catalog_status: "disabled" }), {})).toMatchObject({ kind: "unavailable" });
  });

  it("maxCents walks overrides and matrix cells", () => {
    expect(maxCents(entry({ unit_price_cents: 5, billing_config: { keys: ["a"], matrix: { x: 7, y: { z: 9 } } } }))).toBe(9);
    expect(maxCents(entry({ billing_strategy: "per_second", unit_price_cents: 5 }))).toBeNull();
  });
});

describe("the bundled schedule", () => {
  it("prices every model × action of the catalog (an action without models once), each with its provenance", () => {
    const missing = allActions().flatMap((a) =>
      (a.models.length ? a.models : [null]).filter((m) => !index.entry(a.service, a.action, m)).map((m) => `${a.service}/${a.action}/${m}`),
    );
    expect(missing).toEqual([]);
    for (const s of BUNDLED_SCHEDULE.price_schedules) {
      expect(s.source === "published" || s.source === "provisional").toBe(true);
      if (s.source === "provisional") expect(s.note).toBeTruthy();
    }
  });

  it("chat models carry per-token rates and an output cap", () => {
    const rates = chatRates(index.chat("gpt-4o"));
    expect(rates).toMatchObject({ input_micros_per_1m: 2_500_000, output_micros_per_1m: 10_000_000, max_output_tokens: 16_384 });
    expect(chatRates(entry({ action: "chat_completions", input_price_per_1m_cents: 10, output_price_per_1m_cents: 0 }))).toBeNull();
  });
});

describe("markup", () => {
  it("rounds up to the next micro-dollar with integer arithmetic", () => {
    expect(withMarkup(300_000, 0)).toBe(300_000);
    expect(withMarkup(300_000, 20)).toBe(360_000);
    expect(withMarkup(1, 0.01)).toBe(2);
    expect(withMarkup(333_333, 12.5)).toBe(375_000);
    expect(withMarkup(9_007_199_254_740, 10_000)).toBe(909_727_124_728_740);
  });

  it("the tenant's most specific override wins, then its default, then the global override, then the global default", () => {
    const global = {
      markup_percent: 10,
      overrides: [
        { service: "kling", markup_percent: 20 },
        { service: "kling", model: "kling-v2.6", markup_percent: 25 },
      ],
    };
    const t = { service: "kling", action: "text_to_video", model: "kling-v2.6" };
    expect(markupPercent(global, undefined, t)).toBe(25);
    expect(markupPercent(global, undefined, { ...t, model: "kling-3.0" })).toBe(20);
    expect(markupPercent(global, undefined, { ...t, service: "suno" })).toBe(10);
    expect(markupPercent(global, { markup_percent: 5 }, t)).toBe(5);
    expect(markupPercent(global, { markup_percent: 5, overrides: [{ service: "kling", action: "text_to_video", markup_percent: 7 }] }, t)).toBe(7);
  });

  it("parses an operator's config and names each bad field", () => {
    expect(parseMarkup({ markup_percent: 12.5, overrides: [{ service: "veo_3_1", markup_percent: 30 }] })).toEqual({
      ok: true,
      value: { markup_percent: 12.5, overrides: [{ service: "veo-3-1", markup_percent: 30 }] },
    });
    const bad = parseMarkup({ markup_percent: 1.234, overrides: [{ markup_percent: -200 }], colour: 1 });
    expect(bad.ok).toBe(false);
    expect(bad.ok ? [] : bad.issues.map((i) => i.field).sort()).toEqual(["colour", "markup_percent", "overrides[0].markup_percent", "overrides[0].service"]);
  });
});
