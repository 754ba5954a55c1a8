import { env, exports } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { tinyMp3, tinyPng } from "../sim/media-fixtures";
import { advanceUpstream, api, deliverCallbacks, eventually, getTask, json, me, nonce, tenantWithKey, webhookReceiver } from "./helpers";

// SPEC §12: outputs of every modality are archived to R2 with their own Content-Type and served at
// /media/{taskId}/{i}.{ext}; the task shows the proxy's link where RunAPI's was, and RunAPI's beside it.

const link = (ext: string) => new RegExp(`^https://proxy\\.test/media/([0-9a-f-]{36})/(\\d)\\.${ext}\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`);
const image = (prompt: string) => ({ model: "seedream-v4-edit", prompt, source_image_urls: ["https://img.test/a.png"], output_count: 2 });
const song = (prompt: string) => ({ model: "suno-v5", vocal_mode: "auto_lyrics", prompt });

/** Creates a task at `path`, completes it at RunAPI and delivers RunAPI's callback. */
async function completedTask(path: string, body: Record<string, unknown>, tenant: Record<string, unknown> = {}) {
  const made = await tenantWithKey(tenant);
  const res = await api(made.key, path, { body });
  expect(res.status, await res.clone().text()).toBe(200);
  const id = (await json(res)).id as string;
  const upstreamId = await advanceUpstream(id, { status: "completed" });
  await deliverCallbacks(upstreamId);
  return { ...made, id, upstreamId };
}

const fetchProxy = (url: string, headers: Record<string, string> = {}) => exports.default.fetch(new Request(url, { headers }));
const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer());

describe("every modality is archived", () => {
  it("an image task's PNGs: stored as image/png, served at /media/{id}/{i}.png byte-exact with ranges; the task shows the links in place, RunAPI's beside them", async () => {
    const { key, keyId, tenantId, id, upstreamId } = await completedTask("/api/v1/seedream/edit_image", image(`${nonce()} a fox`));
    const task = await eventually(async () => {
      const t = await getTask(key, id);
      expect(t.images.map((i: { source_url?: string }) => i.source_url)).toEqual([0, 1].map((i) => `https://runapi.test/files/${upstreamId}/${i}.png`));
      return t;
    }, 10_000);
    expect(task.images).toEqual(
      [0, 1].map((i) => ({ url: expect.stringMatching(link("png")), source_url: `https://runapi.test/files/${upstreamId}/${i}.png` })),
    );
    expect(task.images.map((i: { url: string }) => link("png").exec(i.url)!.slice(1))).toEqual([
      [id, "0"],
      [id, "1"],
    ]);
    // RunAPI's own status path shows the same links.
    expect((await json(await api(key, `/api/v1/seedream/edit_image/${id}`))).images).toEqual(task.images);

    const png = tinyPng();
    const res = await fetchProxy(task.images[1].url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toMatch(/^public, max-age=\d+, s-maxage=60, immutable$/);
    expect(await bytesOf(res)).toEqual(png);
    const part = await fetchProxy(task.images[0].url, { Range: "bytes=1-3" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 1-3/${png.length}`);
    expect(new TextDecoder().decode(await bytesOf(part))).toBe("PNG");

    const object = await env.VIDEOS.head(`media/${id}/1.png`);
    expect(object?.httpMetadata?.contentType).toBe("image/png");
    expect(object?.customMetadata).toMatchObject({ tenant: tenantId, key: keyId, task: id, source_url: task.images[1].source_url });
    expect((await me(key)).video_storage).toEqual({ videos: 2, bytes: 2 * png.length, retention_days: 90 });
  });

  it("an audio task's MP3: audios[0].audio_url becomes the proxy's /media/{id}/0.mp3 link, RunAPI's as source_audio_url, the rest as RunAPI said", async () => {
    const { key, id, upstreamId } = await completedTask("/api/v1/suno/text_to_music", song(`${nonce()} a sea shanty`));
    const audio = await eventually(async () => {
      const a = (await getTask(key, id)).audios[0];
      expect(a.source_audio_url).toBeDefined();
      return a;
    }, 10_000);
    expect(audio).toEqual({
      id: `${upstreamId}-0`,
      audio_url: expect.stringMatching(link("mp3")),
      source_audio_url: `https://runapi.test/files/${upstreamId}/0.mp3`,
      duration: expect.any(Number),
    });
    const mp3 = tinyMp3();
    const res = await fetchProxy(audio.audio_url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expect(await bytesOf(res)).toEqual(mp3);
    const tail = await fetchProxy(audio.audio_url, { Range: "bytes=-208" });
    expect(tail.status).toBe(206);
    expect(await bytesOf(tail)).toEqual(mp3.subarray(mp3.length - 208));
  });

  it("a task with nothing to download (lyrics) has no archive, and its read is RunAPI's answer", async () => {
    const { key, id } = await completedTask("/api/v1/suno/generate_lyrics", { prompt: `${nonce()} the sea` });
    const task = await eventually(async () => {
      const t = await getTask(key, id);
      expect(t.status).toBe("completed");
      return t;
    });
    expect(task.lyrics[0].text).toContain("the sea");
    expect(JSON.stringify(task)).not.toContain("source_");
    expect((await me(key)).video_storage.videos).toBe(0);
  });

  it("the tenant webhook waits for the copies and carries the archived links with RunAPI's beside them", async () => {
    const hook = "https://hooks.tenant.test/media";
    const received = webhookReceiver(hook);
    const { webhookSecret, id, upstreamId } = await completedTask("/api/v1/seedream/edit_image", image(`${nonce()} [sim:video-flaky=1]`), {
      webhook_url: hook,
    });
    await eventually(async () => expect(received).toHaveLength(1), 10_000);
    const payload = new Webhook(webhookSecret).verify(received[0]!.body, received[0]!.headers) as { id: string; images: { url: string; source_url: string }[] };
    expect(payload.id).toBe(id);
    expect(payload.images).toEqual(
      [0, 1].map((i) => ({ url: expect.stringMatching(link("png")), source_url: `https://runapi.test/files/${upstreamId}/${i}.png` })),
    );
    expect((await fetchProxy(payload.images[0]!.url)).headers.get("content-type")).toBe("image/png");
  });
});
