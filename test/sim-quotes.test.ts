import { beforeAll, describe, expect, it } from "vitest";
import { minimalRequest, sampleCases } from "../sim/samples";
import { advanceSimTask, simApi } from "./helpers";

// RunAPI's price_quotes, from the simulator's own evaluation of its own schedule (the bundled one here).

type Json = Record<string, any>;

const quote = (service: string, action: string, model: string | null, params: Json = {}) =>
  simApi("/api/v1/price_quotes", { body: { service, action, model, params } });
const cents = async (service: string, action: string, model: string | null, params: Json = {}) => {
  const res = await quote(service, action, model, params);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return (JSON.parse(text) as Json).price_quote.reservation_amount_cents as number;
};
const img = "https://img.test/a.png";

describe("price quotes", () => {
  it("answer in RunAPI's shape", async () => {
    const res = await quote("hailuo", "text_to_video", "hailuo-02-text-to-video-standard", { duration_seconds: 6 });
    const { price_quote } = (await res.json()) as Json;
    expect(price_quote).toMatchObject({
      service: "hailuo",
      action: "text_to_video",
      model: "hailuo-02-text-to-video-standard",
      pricing_status: "available",
      currency: "USD",
      reservation_amount_cents: 30,
      estimate_basis: "duration_seconds=6",
      as_of: expect.any(String),
    });
    expect(Date.parse(price_quote.expires_at)).toBeGreaterThan(Date.now());
  });

  it.each([
    ["a flat price", "hailuo", "text_to_video", "hailuo-02-text-to-video-pro", {}, 57],
    ["a key's override", "hailuo", "text_to_video", "hailuo-02-text-to-video-standard", { duration_seconds: 6 }, 30],
    ["the unit price for a value without an override", "gpt-4o-image", "text_to_image", "gpt-4o-image", { output_count: 1 }, 6],
    ["the contract's default for a value not sent", "topaz", "upscale_video", "topaz-upscale-video", {}, 8],
    ["the largest price when a value is not sent and has no default", "ideogram-v3", "text_to_image", "ideogram-v3-character", {}, 24],
    ["a matrix cell", "runway", "text_to_video", "runway", { duration_seconds: 10, output_resolution: "720p" }, 30],
    [
      'a matrix\'s "any"',
      "gemini-omni",
      "text_to_video",
      "gemini-omni-text-to-video",
      { duration_seconds: 4, output_resolution: "4k", video_list: [{ url: img, start: 0, ends: 1 }] },
      360,
    ],
    [
      "a matrix's derived key (input_mode generated)",
      "gemini-omni",
      "text_to_video",
      "gemini-omni-text-to-video",
      { duration_seconds: 8, output_resolution: "720p" },
      150,
    ],
    ["the largest price of the cells a request leaves open", "seedance", "text_to_video", "seedance-1.5-pro", { generate_audio: false }, 7.5],
    ["a duration band", "grok-imagine", "text_to_video", "grok-imagine-video-1.5-fast", { duration_seconds: 15 }, 45],
    ["the largest price for a price taken from the output's length", "happyhorse", "edit_video", "happyhorse-edit-video", { output_resolution: "720p" }, 48],
    ["0 for a free action", "suno", "generate_midi", null, {}, 0],
    ["Hailuo 02 standard's default 10 s", "hailuo", "text_to_video", "hailuo-02-text-to-video-standard", {}, 50],
    ["Hailuo 02 i2v standard's default 768p", "hailuo", "image_to_video", "hailuo-02-image-to-video-standard", { duration_seconds: 6 }, 30],
    ["Hailuo 2.3 standard's defaults (10 s, 768p)", "hailuo", "image_to_video", "hailuo-2.3-image-to-video-standard", {}, 50],
    ["Hailuo 2.3 pro's defaults (6 s, 1080p)", "hailuo", "image_to_video", "hailuo-2.3-image-to-video-pro", {}, 80],
    ["a service in the path's spelling", "veo_3_1", "upscale_video", null, { output_resolution: "1080p" }, 5],
    ["an action without a model field, at the most its models cost", "kling", "extend_video", null, { mode: "pro" }, 8.4],
  ])("%s", async (_name, service, action, model, params, expected) => {
    expect(await cents(service, action, model, params)).toBe(expected);
  });

  it("prices per-token speech deterministically from the text's length", async () => {
    const body = (text: string) => ({ speakers: [{ speaker_id: "Speaker 1", voice_name: "Kore" }], dialogue_turns: [{ text, speaker_id: "Speaker 1" }] });
    // 40 characters: 10 text tokens in, 60 speech tokens out, at 140 and 2800 cents per 1M.
    const short = await cents("gemini-tts", "text_to_speech", "gemini-3.1-flash-tts", body("abcd".repeat(10)));
    expect(short).toBe(0.1694);
    expect(await cents("gemini-tts", "text_to_speech", "gemini-3.1-flash-tts", body("abcd".repeat(10)))).toBe(short);
    expect(await cents("gemini-tts", "text_to_speech", "gemini-3.1-flash-tts", body("abcd".repeat(100)))).toBeGreaterThan(short);
  });

  it("prices chat from input_tokens and max_tokens, capped at the model's output", async () => {
    expect(await cents("chat", "chat_completions", "gpt-4o-mini", { input_tokens: 1000, max_tokens: 500 })).toBe(0.045);
    expect(await cents("chat", "chat_completions", "gpt-4o-mini", { input_tokens: 1000 })).toBe(0.998);
  });

  it.each([
    ["an unknown action", "hailuo", "text_to_audio", "hailuo-02-text-to-video-standard", {}, 400, "invalid_request"],
    ["an unknown model", "hailuo", "text_to_video", "hailuo-99", {}, 400, "invalid_request"],
    ["a param outside its enum", "hailuo", "image_to_video", "hailuo-02-image-to-video-standard", { output_resolution: "1080p" }, 400, "invalid_request"],
    [
      "a combination the schedule has no price for",
      "runway",
      "text_to_video",
      "runway",
      { duration_seconds: 10, output_resolution: "1080p" },
      400,
      "invalid_request",
    ],
    ["a price only the output's length can tell", "kling", "motion_control", "kling-v2.6", {}, 422, "pricing_unavailable"],
    ["a chat model without rates", "chat", "chat_completions", "gpt-9", {}, 422, "pricing_unavailable"],
  ])("refuses %s", async (_name, service, action, model, params, status, code) => {
    const res = await quote(service, action, model, params);
    expect(res.status).toBe(status);
    expect(((await res.json()) as Json).error.code).toBe(code);
  });
});

describe("a finished task's cost_cents", () => {
  let sourceTaskId = "";
  beforeAll(async () => {
    const res = await simApi("/api/v1/hailuo/text_to_video", { body: { model: "hailuo-02-text-to-video-standard", prompt: "a source clip" } });
    sourceTaskId = ((await res.json()) as Json).id;
    await advanceSimTask(sourceTaskId, { status: "completed" });
  });

  const finish = async (path: string, body: Json, sync: boolean): Promise<Json> => {
    const res = await simApi(path, { body });
    const created = (await res.json()) as Json;
    expect(res.status, JSON.stringify(created)).toBe(200);
    return sync ? created : advanceSimTask(created.id, { status: "completed" });
  };

  it.each(sampleCases().map((c) => [`${c.action.service}/${c.action.action} ${c.model ?? "(no model)"}`, c] as const))(
    "equals the quote for %s",
    async (_name, { action, model }) => {
      const { model: _m, ...params } = minimalRequest(action, model, { taskId: sourceTaskId });
      const quoted = await quote(action.service, action.action, model, params);
      const task = await finish(action.path, minimalRequest(action, model, { taskId: sourceTaskId }), action.sync);
      if (quoted.status === 422) {
        expect(task.cost_cents).toBeUndefined();
        return;
      }
      expect(quoted.status).toBe(200);
      expect(task.cost_cents).toBe(((await quoted.json()) as Json).price_quote.reservation_amount_cents);
    },
  );

  it("is what RunAPI bills by the output when the price comes from its length: at most the quote", async () => {
    const body = { model: "happyhorse-edit-video", prompt: "x", source_video_url: "https://img.test/a.mp4", output_resolution: "720p" };
    const task = await finish("/api/v1/happyhorse/edit_video", body, false);
    expect(task.cost_cents).toBe(28);
  });
});
