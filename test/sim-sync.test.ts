import { describe, expect, it } from "vitest";
import { sim, simApi } from "./helpers";

// Synchronous actions (`sync: true` in the catalog) answer at once: the finished task, with cost_cents.

type Json = Record<string, any>;
const TTS = "/api/v1/openai_tts/text_to_speech";

describe("synchronous actions", () => {
  it("answer at once with the finished task, its outputs and its price as cost_cents", async () => {
    const res = await simApi(TTS, { body: { model: "tts-1-hd", text: "hello there" } });
    expect(res.status).toBe(200);
    const task = (await res.json()) as Json;
    expect(task).toMatchObject({ id: expect.any(String), status: "completed", model: "tts-1-hd", cost_cents: expect.any(Number) });
    expect(task.cost_cents).toBeGreaterThan(0);
    const quote = await simApi("/api/v1/price_quotes", {
      body: { service: "openai-tts", action: "text_to_speech", model: "tts-1-hd", params: { text: "hello there" } },
    });
    expect(task.cost_cents).toBe(((await quote.json()) as Json).price_quote.reservation_amount_cents);
    const audio = await sim(new URL(task.audios[0].audio_url).pathname);
    expect(audio.headers.get("content-type")).toBe("audio/mpeg");
    // The task stays readable at its status path.
    expect(((await (await simApi(`${TTS}/${task.id}`)).json()) as Json).status).toBe("completed");
  });

  it("report 0 for a free one, with its answer", async () => {
    const task = (await (await simApi("/api/v1/midjourney/get_seed", { body: { image_id: "img-1" } })).json()) as Json;
    expect(task).toMatchObject({ status: "completed", seed: expect.any(Number), cost_cents: 0 });
  });

  it("replay the same answer for the same Idempotency-Key and body, 409 for another body", async () => {
    const key = crypto.randomUUID();
    const first = (await (await simApi(TTS, { body: { model: "tts-1", text: "one" }, headers: { "Idempotency-Key": key } })).json()) as Json;
    const again = await simApi(TTS, { body: { text: "one", model: "tts-1" }, headers: { "Idempotency-Key": key } });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(first);
    expect((await simApi(TTS, { body: { model: "tts-1", text: "two" }, headers: { "Idempotency-Key": key } })).status).toBe(409);
  });

  it("answer [sim:fail] with RunAPI's error instead of a task, and take no callback_url", async () => {
    const failed = await simApi(TTS, { body: { model: "tts-1", text: "boom [sim:fail]" } });
    expect(failed.status).toBe(422);
    expect(((await failed.json()) as Json).error.code).toBe("generation_failed");
    expect((await simApi(TTS, { body: { model: "tts-1", text: "x", callback_url: "https://cb.test/x" } })).status).toBe(400);
  });
});
