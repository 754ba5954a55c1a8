import { describe, expect, it } from "vitest";
import { advanceUpstream, api, deliverCallbacks, nonce, tenantWithKey } from "./helpers";

// RunAPI's SDKs for non-Hailuo models as they call the API (runapi-ai/kling-sdk `resources/text-to-video.ts`,
// suno-sdk, flux-2-sdk): `create()` POSTs the body to the action's path and reads `id`; `get(id)` GETs
// `{path}/{id}`; `run()` creates and polls `get` until `completed` or `failed`. Only the base URL and key change.

type Task = { id: string; status: string; [k: string]: unknown };

/** One SDK resource, the way RunAPI's generated SDKs build it: its endpoint and the three calls. */
function resource(key: string, endpoint: string, advance: (id: string) => Promise<void>) {
  const create = async (params: Record<string, unknown>): Promise<{ id: string }> => {
    const body = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)); // compactParams
    const res = await api(key, endpoint, { body });
    if (res.status !== 200) throw new Error(`create: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string };
  };
  const get = async (id: string): Promise<Task> => {
    const res = await api(key, `${endpoint}/${id}`);
    if (res.status !== 200) throw new Error(`get: ${res.status} ${await res.text()}`);
    return (await res.json()) as Task;
  };
  /** create, then poll until a terminal status (the SDKs stop only on completed or failed). */
  const run = async (params: Record<string, unknown>): Promise<Task> => {
    const { id } = await create(params);
    for (let polls = 0; polls < 50; polls++) {
      const task = await get(id);
      if (task.status === "completed") return task;
      if (task.status === "failed") throw new Error(`task failed: ${task.error}`);
      if (polls === 0) await advance(id); // RunAPI finishes the task meanwhile
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error("polling timed out");
  };
  return { create, get, run };
}

/** Moves the simulator's copy of a task to completed and delivers its callback, as RunAPI would. */
async function finish(id: string): Promise<void> {
  await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
}

describe("RunAPI's SDK shapes for models beyond Hailuo", () => {
  it("Kling text-to-video: create → get → run() to completion, with the video and RunAPI's price", async () => {
    const { key } = await tenantWithKey();
    const kling = resource(key, "/api/v1/kling/text_to_video", finish);
    const { id } = await kling.create({ model: "kling-v2.6", prompt: `a paper boat ${nonce()}`, mode: "pro", enable_sound: true, negative_prompt: undefined });
    expect(await kling.get(id)).toMatchObject({ id, status: "pending", model: "kling-v2.6", estimated_cost_usd: 0.4 });
    const done = await kling.run({ model: "kling-v2.6", prompt: `a paper boat ${nonce()}`, mode: "std" });
    expect(done).toMatchObject({ status: "completed", model: "kling-v2.6", charged_usd: 0.12 });
    expect((done.videos as { url: string }[])[0]!.url).toMatch(/^https?:\/\//);
  });

  it("Suno text-to-music run(): the audios come back as RunAPI shows them", async () => {
    const { key } = await tenantWithKey();
    const suno = resource(key, "/api/v1/suno/text_to_music", finish);
    const done = await suno.run({ model: "suno-v5", vocal_mode: "instrumental", style: "lo-fi", title: `rain ${nonce()}` });
    expect(done.status).toBe("completed");
    expect((done.audios as { audio_url: string }[])[0]!.audio_url).toMatch(/\.mp3/);
  });

  it("Flux text-to-image run(): the images come back", async () => {
    const { key } = await tenantWithKey();
    const flux = resource(key, "/api/v1/flux_2/text_to_image", finish);
    const done = await flux.run({ model: "flux-2-pro-text-to-image", prompt: `a watercolor fox ${nonce()}` });
    expect(done).toMatchObject({ status: "completed", service: "flux-2", action: "text_to_image" });
    expect((done.images as { url: string }[]).length).toBeGreaterThan(0);
  });

  it("a task read at another action's path is a 404, as RunAPI answers", async () => {
    const { key } = await tenantWithKey();
    const { id } = await resource(key, "/api/v1/kling/text_to_video", finish).create({ model: "kling-v2.6", prompt: nonce(), mode: "std" });
    expect((await api(key, `/api/v1/kling/image_to_video/${id}`)).status).toBe(404);
    expect((await api(key, `/api/v1/suno/text_to_music/${id}`)).status).toBe(404);
  });
});
