import { describe, expect, it } from "vitest";
import { MP3_FRAME_BYTES, MP3_FRAME_HEADER, MP3_FRAMES, TINY_MP3_SECONDS } from "../sim/media-fixtures";
import { advanceSimTask, sim, simApi } from "./helpers";

// What a completed task carries per modality, and the small real files the simulator serves for it.

type Json = Record<string, any>;

async function completed(path: string, body: Json): Promise<Json> {
  const res = await simApi(path, { body });
  const created = (await res.json()) as Json;
  expect(res.status, JSON.stringify(created)).toBe(200);
  await advanceSimTask(created.id, { status: "completed" });
  return (await (await simApi(`${path}/${created.id}`)).json()) as Json;
}

const bytesOf = async (url: string) => new Uint8Array(await (await sim(new URL(url).pathname)).arrayBuffer());
const image = (prompt: string, extra: Json = {}) =>
  completed("/api/v1/seedream/edit_image", { model: "seedream-v4-edit", prompt, source_image_urls: ["https://img.test/a.png"], ...extra });

describe("outputs per modality", () => {
  it("an image task: images[] of real PNGs (8×8 RGB), as many as output_count asks", async () => {
    const task = await image("a fox", { output_count: 3 });
    expect(task.images).toEqual([0, 1, 2].map((i) => ({ url: `https://runapi.test/files/${task.id}/${i}.png` })));
    const png = await bytesOf(task.images[2].url);
    const view = new DataView(png.buffer);
    expect(new TextDecoder().decode(png.subarray(12, 16))).toBe("IHDR");
    expect([view.getUint32(16), view.getUint32(20), png[24], png[25]]).toEqual([8, 8, 8, 2]);
    expect(new TextDecoder().decode(png.subarray(-8, -4))).toBe("IEND");
  });

  it("an audio task: audios[] {id, audio_url, duration} of a real MP3 (MPEG-1 Layer III frames)", async () => {
    const task = await completed("/api/v1/suno/text_to_music", { model: "suno-v5", vocal_mode: "auto_lyrics", prompt: "a sea shanty" });
    expect(task.audios).toEqual([{ id: `${task.id}-0`, audio_url: `https://runapi.test/files/${task.id}/0.mp3`, duration: TINY_MP3_SECONDS }]);
    const res = await sim(new URL(task.audios[0].audio_url).pathname);
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    const mp3 = new Uint8Array(await res.arrayBuffer());
    expect(mp3.length).toBe(MP3_FRAMES * MP3_FRAME_BYTES);
    for (let f = 0; f < MP3_FRAMES; f++) expect([...mp3.subarray(f * MP3_FRAME_BYTES, f * MP3_FRAME_BYTES + 4)]).toEqual([...MP3_FRAME_HEADER]);
    expect(TINY_MP3_SECONDS).toBe(1.04);
  });

  it("a video task: videos[] at the old /videos address, also served at /files/{id}/0.mp4", async () => {
    const task = await completed("/api/v1/veo_3_1/text_to_video", { model: "veo-3.1", prompt: "a fox" });
    expect(task.videos).toEqual([{ url: `https://runapi.test/videos/${task.id}.mp4` }]);
    expect(await bytesOf(`https://runapi.test/files/${task.id}/0.mp4`)).toEqual(await bytesOf(task.videos[0].url));
  });

  it("utility actions: a plausible JSON field, no media", async () => {
    const lyrics = await completed("/api/v1/suno/generate_lyrics", { prompt: "the sea" });
    expect(lyrics.lyrics).toEqual([{ title: "Simulated Song", text: expect.stringContaining("the sea") }]);
    const midi = await completed("/api/v1/suno/generate_midi", { task_id: lyrics.id });
    expect(midi.midi.notes[0]).toMatchObject({ pitch: 60 });
    expect(midi.videos ?? midi.images ?? midi.audios).toBeUndefined();
  });

  it("serves no file for an unfinished task, past the count, or under another type", async () => {
    const res = await simApi("/api/v1/seedream/edit_image", {
      body: { model: "seedream-v4-edit", prompt: "x", source_image_urls: ["https://img.test/a.png"] },
    });
    const { id } = (await res.json()) as Json;
    expect((await sim(`/files/${id}/0.png`)).status).toBe(404);
    await advanceSimTask(id, { status: "completed" });
    expect((await sim(`/files/${id}/0.png`)).status).toBe(200);
    expect((await sim(`/files/${id}/1.png`)).status).toBe(404);
    expect((await sim(`/files/${id}/0.mp3`)).status).toBe(404);
    expect((await sim(`/files/${crypto.randomUUID()}/0.png`)).status).toBe(404);
  });

  it("applies file faults to every modality ([sim:video-gone], [sim:video-flaky=1]) and counts downloads", async () => {
    const gone = await image("a fox [sim:video-gone]");
    expect((await sim(new URL(gone.images[0].url).pathname)).status).toBe(404);
    const flaky = await image("a fox [sim:video-flaky=1]");
    const path = new URL(flaky.images[0].url).pathname;
    expect((await sim(path)).status).toBe(503);
    expect((await sim(path)).status).toBe(200);
    expect(await (await sim(`/__sim/videos/${flaky.id}`)).json()).toEqual({ downloads: 2, vanished: false });
  });
});
