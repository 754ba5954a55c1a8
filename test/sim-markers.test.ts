import { describe, expect, it } from "vitest";
import { progress, stringsOf } from "../sim/progress";
import { advanceSimTask, sim, simApi } from "./helpers";

// Faults are asked for with `[sim:…]` in any string of a request, whatever the action calls its text.

type Json = Record<string, any>;
const TTS = "/api/v1/elevenlabs/text_to_speech";
const tts = (text: string, extra: Json = {}) => ({ model: "text-to-speech-turbo-v2.5", text, ...extra });
const dialogue = (text: string) => ({
  model: "gemini-3.1-flash-tts",
  speakers: [{ speaker_id: "Speaker 1", voice_name: "Kore" }],
  dialogue_turns: [{ text, speaker_id: "Speaker 1" }],
});

describe("markers in any text field", () => {
  it("[sim:500] and [sim:429] in a `text` field answer so", async () => {
    expect((await simApi(TTS, { body: tts("hi [sim:500]") })).status).toBe(500);
    const limited = await simApi(TTS, { body: tts("hi [sim:429]") });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
  });

  it("[sim:fail] in a `text` field ends the task failed when its time is up", () => {
    const timings = { processingAfterMs: 10, completeAfterMs: 20 };
    const task = (text: string) => ({ createdAt: 0, text: stringsOf(tts(text)), forcedStatus: null, forcedAt: null });
    expect(progress(task("hi [sim:fail]"), 30, timings).status).toBe("failed");
    expect(progress(task("hi"), 30, timings).status).toBe("completed");
  });

  it("[sim:cost=NN] nested in a dialogue turn sets the finished task's cost", async () => {
    const { id } = (await (await simApi("/api/v1/gemini_tts/text_to_speech", { body: dialogue("hello [sim:cost=12.5]") })).json()) as Json;
    expect((await advanceSimTask(id, { status: "completed" })).cost_cents).toBe(12.5);
  });

  it("[sim:status-404] in lyrics makes status reads answer 404", async () => {
    const body = { model: "suno-v5", vocal_mode: "exact_lyrics", lyrics: "la la [sim:status-404]", style: "pop", title: "T" };
    const { id } = (await (await simApi("/api/v1/suno/text_to_music", { body })).json()) as Json;
    expect((await simApi(`/api/v1/suno/text_to_music/${id}`)).status).toBe(404);
  });

  it("a catalog task calls back with its outputs; [sim:no-callback] in its text never does", async () => {
    const url = `https://proxy.test/webhooks/runapi/${crypto.randomUUID()}/tok`;
    const { id } = (await (await simApi(TTS, { body: tts("hi", { callback_url: url }) })).json()) as Json;
    await advanceSimTask(id, { status: "completed" });
    const { callbacks } = (await (await sim(`/__sim/outbox?task_id=${id}`)).json()) as Json;
    expect(callbacks).toHaveLength(1);
    expect(callbacks[0]).toMatchObject({ url, body: { id, status: "completed", audios: [{ audio_url: expect.any(String) }], cost_cents: 6 } });
    const silent = (await (await simApi(TTS, { body: tts("hi [sim:no-callback]", { callback_url: url }) })).json()) as Json;
    await advanceSimTask(silent.id, { status: "completed" });
    expect(((await (await sim(`/__sim/outbox?task_id=${silent.id}`)).json()) as Json).callbacks).toEqual([]);
  });
});
