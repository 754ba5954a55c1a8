import { beforeAll, describe, expect, it } from "vitest";
import { advanceSimTask, simApi } from "./helpers";

// The simulator refuses what RunAPI refuses, with its own reading of the contract (never the proxy's validator):
// one refusal per kind of field rule, and Hailuo's real constraints the contract leaves out.

type Json = Record<string, any>;
type Case = [name: string, path: string, body: Json, status: number, message: string];

const T2V = "/api/v1/hailuo/text_to_video";
const I2V = "/api/v1/hailuo/image_to_video";
const img = "https://img.test/a.png";
const speakers = [{ speaker_id: "Speaker 1", voice_name: "Kore" }];
const turns = [{ text: "hello", speaker_id: "Speaker 1" }];

const cases: Case[] = [
  ["a body that is not an object", T2V, [1, 2] as unknown as Json, 400, "body must be a JSON object"],
  ["an unknown field", T2V, { model: "hailuo-02-text-to-video-standard", prompt: "x", colour: "red" }, 400, "colour: unknown field"],
  ["a missing required field", "/api/v1/openai_tts/text_to_speech", { model: "tts-1" }, 400, "text: is required"],
  ["a string of the wrong type", "/api/v1/openai-tts/text_to_speech", { model: "tts-1", text: 5 }, 400, "text: must be a string"],
  [
    "an integer sent as a string",
    T2V,
    { model: "hailuo-02-text-to-video-standard", prompt: "x", duration_seconds: "6" },
    400,
    "duration_seconds: must be an integer",
  ],
  [
    "a boolean of the wrong type",
    T2V,
    { model: "hailuo-02-text-to-video-standard", prompt: "x", prompt_optimizer: "yes" },
    400,
    "prompt_optimizer: must be a boolean",
  ],
  [
    "a value outside its enum",
    I2V,
    { model: "hailuo-02-image-to-video-standard", prompt: "x", first_frame_image_url: img, output_resolution: "1080p" },
    400,
    "output_resolution: must be one of 512p, 768p",
  ],
  ["a number above its max", "/api/v1/fish_audio/list_voices", { page_size: 101 }, 400, "page_size: must be at most 100"],
  ["a number below its min", "/api/v1/fish_audio/list_voices", { page_number: 0 }, 400, "page_number: must be at least 1"],
  [
    "a string longer than its max length",
    "/api/v1/openai_tts/text_to_speech",
    { model: "tts-1", text: "a".repeat(4097) },
    400,
    "text: must be at most 4096 characters",
  ],
  ["a string shorter than its min length", "/api/v1/flux/text_to_image", { model: "flux-dev", prompt: "ab" }, 400, "prompt: must be at least 3 characters"],
  [
    "too many items",
    "/api/v1/imagen_4/remix_image",
    { model: "imagen-4-pro-remix-image", prompt: "x", source_image_urls: Array(9).fill(img) },
    400,
    "source_image_urls: must have at most 8 item(s)",
  ],
  [
    "too few items",
    "/api/v1/imagen_4/remix_image",
    { model: "imagen-4-pro-remix-image", prompt: "x", source_image_urls: [] },
    400,
    "source_image_urls: must have at least 1 item(s)",
  ],
  [
    "an item missing a required property",
    "/api/v1/gemini_tts/text_to_speech",
    { model: "gemini-3.1-flash-tts", speakers: [{ speaker_id: "Speaker 1" }], dialogue_turns: turns },
    400,
    "speakers: item 0: voice_name is required",
  ],
  [
    "an item with an unknown property",
    "/api/v1/gemini_tts/text_to_speech",
    { model: "gemini-3.1-flash-tts", speakers: [{ ...speakers[0], mood: "x" }], dialogue_turns: turns },
    400,
    "speakers: item 0 has an unknown field mood",
  ],
  [
    "a string not matching its pattern",
    "/api/v1/gemini_tts/text_to_speech",
    { model: "gemini-3.1-flash-tts", speakers: [{ speaker_id: "Narrator", voice_name: "Kore" }], dialogue_turns: turns },
    400,
    "speaker_id must match ^Speaker",
  ],
  [
    "a list item not matching its pattern",
    "/api/v1/minimax_h3/text_to_video",
    { model: "minimax-h3", prompt: "x", reference_image_urls: ["ftp://img.test/a.png"] },
    400,
    "reference_image_urls: item 0 must match ^https?://",
  ],
  [
    "a URL field that is no URL",
    I2V,
    { model: "hailuo-02-image-to-video-standard", prompt: "x", first_frame_image_url: "a.png" },
    400,
    "first_frame_image_url: must be an absolute URL",
  ],
  [
    "a rule's required field (when model is …)",
    "/api/v1/elevenlabs/text_to_speech",
    { model: "text-to-speech-multilingual-v2", text: "hi" },
    400,
    "voice: is required when model is text-to-speech-multilingual-v2",
  ],
  [
    "a rule's forbidden field",
    "/api/v1/flux_2/text_to_image",
    { model: "flux-2-flex-text-to-image", prompt: "a fox", output_count: 2 },
    400,
    "output_count: is not allowed when model is flux-2-flex-text-to-image",
  ],
  [
    "a rule's enum (when a field is …)",
    "/api/v1/fish_audio/text_to_speech",
    { model: "s1", text: "hi", output_format: "mp3", sample_rate_hz: 8000 },
    400,
    "sample_rate_hz: must be one of 32000, 44100 when output_format is mp3",
  ],
  [
    "a rule's enum (when a field is not set)",
    "/api/v1/fish_audio/text_to_speech",
    { model: "s1", text: "hi", sample_rate_hz: 8000 },
    400,
    "when output_format is not set",
  ],
  [
    "a rule's required_any",
    "/api/v1/minimax_h3/image_to_video",
    { model: "minimax-h3", prompt: "x" },
    400,
    "one of first_frame_image_url, last_frame_image_url is required",
  ],
  [
    "a rule's forbidden pair (when a field is set)",
    "/api/v1/runway/text_to_video",
    { model: "runway", prompt: "x", duration_seconds: 5, output_resolution: "720p", first_frame_image_url: img, aspect_ratio: "16:9" },
    400,
    "aspect_ratio: is not allowed when first_frame_image_url is set",
  ],
  [
    "a model sent to the wrong action",
    T2V,
    { model: "hailuo-02-image-to-video-standard", prompt: "x" },
    400,
    "model: hailuo-02-image-to-video-standard is not available on text_to_video; use image_to_video",
  ],
  ["an unknown model", "/api/v1/kling/text_to_video", { model: "kling-9", prompt: "x" }, 400, "model: unknown model kling-9"],
  ["no model where several are served", "/api/v1/kling/text_to_video", { prompt: "x" }, 400, "model: is required: one of"],
  ["a model on an action that takes none", "/api/v1/suno/generate_lyrics", { prompt: "x", model: "suno-v5" }, 400, "model: unknown field"],
  ["a task reference to no task", "/api/v1/veo_3_1/extend_video", { source_task_id: crypto.randomUUID() }, 422, "source_task_id: no task"],
  ["a task reference that is no UUID", "/api/v1/veo_3_1/extend_video", { source_task_id: "task-1" }, 422, "source_task_id: no task task-1"],
  [
    "a callback_url on a synchronous action",
    "/api/v1/midjourney/shorten_prompt",
    { prompt: "x", callback_url: "https://cb.test/x" },
    400,
    "callback_url: unknown field",
  ],
  // Hailuo as RunAPI really serves it (SPEC §2), stricter than its contract:
  ["Hailuo without a prompt (null counts as not sent)", T2V, { model: "hailuo-02-text-to-video-standard", prompt: null }, 400, "prompt: is required"],
  ["Hailuo with a blank prompt", T2V, { model: "hailuo-02-text-to-video-standard", prompt: "  " }, 400, "prompt: must be a non-empty string"],
  [
    "Hailuo 02 over 1500 characters",
    T2V,
    { model: "hailuo-02-text-to-video-standard", prompt: "a".repeat(1501) },
    400,
    "prompt: must be at most 1500 characters",
  ],
  [
    "Hailuo 02 pro at 10 s",
    T2V,
    { model: "hailuo-02-text-to-video-pro", prompt: "x", duration_seconds: 10 },
    400,
    "duration_seconds: must be 6 for hailuo-02-text-to-video-pro",
  ],
  [
    "Hailuo 02 i2v pro at 768p",
    I2V,
    { model: "hailuo-02-image-to-video-pro", prompt: "x", first_frame_image_url: img, output_resolution: "768p" },
    400,
    "output_resolution: must be 1080p",
  ],
  [
    "Hailuo 2.3 at 1080p and 10 s",
    I2V,
    { model: "hailuo-2.3-image-to-video-pro", prompt: "x", first_frame_image_url: img, output_resolution: "1080p", duration_seconds: 10 },
    400,
    "1080p is rendered only with 6-second clips",
  ],
  [
    "Hailuo 2.3 standard at 1080p by its default 10 s",
    I2V,
    { model: "hailuo-2.3-image-to-video-standard", prompt: "x", first_frame_image_url: img, output_resolution: "1080p" },
    400,
    "1080p is rendered only with 6-second clips (duration_seconds is 10)",
  ],
  [
    "Hailuo 2.3 with a last frame",
    I2V,
    { model: "hailuo-2.3-image-to-video-standard", prompt: "x", first_frame_image_url: img, last_frame_image_url: img },
    400,
    "last_frame_image_url: is not supported",
  ],
  ["Hailuo's legacy alias", I2V, { model: "hailuo-02-image-to-video-standard", prompt: "x", image_url: img }, 400, "image_url: unknown field"],
];

describe("the simulator refuses what RunAPI refuses", () => {
  it.each(cases)("%s", async (_name, path, body, status, message) => {
    const res = await simApi(path, { body });
    const text = await res.text();
    expect(res.status, text).toBe(status);
    const error = (JSON.parse(text) as Json).error;
    expect(error.code).toBe("invalid_request");
    expect(error.message).toContain(message);
  });

  it("lists every problem of a request at once", async () => {
    const res = await simApi(T2V, { body: { model: "hailuo-02-text-to-video-standard", colour: "red", duration_seconds: 7 } });
    const { message } = ((await res.json()) as Json).error;
    expect(message).toContain("colour: unknown field");
    expect(message).toContain("duration_seconds: must be one of 6, 10");
    expect(message).toContain("prompt: is required");
  });

  describe("and accepts what RunAPI accepts", () => {
    let sourceId = "";
    beforeAll(async () => {
      const res = await simApi("/api/v1/kling/text_to_video", { body: { model: "kling-v2.5-turbo-text-to-video-pro", prompt: "a source" } });
      sourceId = ((await res.json()) as Json).id;
      await advanceSimTask(sourceId, { status: "completed" });
    });

    it.each([
      ["Hailuo 2.3 pro at its defaults (6 s, 1080p)", I2V, { model: "hailuo-2.3-image-to-video-pro", prompt: "x", first_frame_image_url: img }],
      [
        "Hailuo 2.3 standard at 1080p and 6 s",
        I2V,
        { model: "hailuo-2.3-image-to-video-standard", prompt: "x", first_frame_image_url: img, output_resolution: "1080p", duration_seconds: 6 },
      ],
      ["Hailuo 02 with a last frame", I2V, { model: "hailuo-02-image-to-video-standard", prompt: "x", first_frame_image_url: img, last_frame_image_url: img }],
      ["the service's dash spelling", "/api/v1/veo-3-1/text_to_video", { model: "veo-3.1", prompt: "x" }],
      ["a model field's default (no model sent)", "/api/v1/gemini_omni/text_to_video", { prompt: "x", duration_seconds: 4 }],
    ])("%s", async (_name, path, body) => {
      const res = await simApi(path, { body });
      expect(res.status, await res.clone().text()).toBe(200);
    });

    it("a task reference to one of its tasks, and takes the source task's model when the action names none", async () => {
      const res = await simApi("/api/v1/kling/extend_video", { body: { source_task_id: sourceId } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as Json).model).toBe("kling-v2.5-turbo-text-to-video-pro");
    });
  });
});
