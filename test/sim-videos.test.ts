import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { syntheticByte } from "../sim/videos";
import { tinyMp4 } from "../sim/video-fixture";

// The simulator's video files: what RunAPI's output links serve, reached through the RUNAPI binding.
const sim = (env as unknown as { RUNAPI: Fetcher }).RUNAPI;
const UPSTREAM_KEY = "sk-runapi-UPSTREAM-test-9f2c41d7e0";

async function completedTask(prompt: string): Promise<{ id: string; url: string }> {
  const created = await sim.fetch("https://runapi.test/api/v1/hailuo/text_to_video", {
    method: "POST",
    headers: { authorization: `Bearer ${UPSTREAM_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "hailuo-02-text-to-video-standard", prompt: `${prompt} ${crypto.randomUUID()}` }),
  });
  const { id } = (await created.json()) as { id: string };
  const done = await sim.fetch(`https://runapi.test/__sim/tasks/${id}/advance`, { method: "POST", body: JSON.stringify({ status: "completed" }) });
  const task = (await done.json()) as { videos: { url: string }[] };
  return { id, url: task.videos[0]!.url };
}

describe("simulator video files", () => {
  it("serves a small real MP4 (ftyp box, H.264) at a completed task's video URL, without auth", async () => {
    const { id, url } = await completedTask("a fox");
    expect(url).toBe(`https://runapi.test/videos/${id}.mp4`);
    const res = await sim.fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp4");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes).toEqual(tinyMp4());
    expect(res.headers.get("content-length")).toBe(String(bytes.length));
    expect(new TextDecoder().decode(bytes.subarray(4, 8))).toBe("ftyp");
    expect(new TextDecoder("latin1").decode(bytes)).toContain("avc1");
  });

  it("an unknown or unfinished task has no video", async () => {
    expect((await sim.fetch(`https://runapi.test/videos/${crypto.randomUUID()}.mp4`)).status).toBe(404);
  });

  it("makes a video vanish on request, as RunAPI's links do after a week", async () => {
    const { id, url } = await completedTask("a fox");
    expect((await sim.fetch(url)).status).toBe(200);
    expect((await sim.fetch(`https://runapi.test/__sim/videos/${id}/vanish`, { method: "POST" })).status).toBe(200);
    expect((await sim.fetch(url)).status).toBe(404);
    expect(await (await sim.fetch(`https://runapi.test/__sim/videos/${id}`)).json()).toEqual({ downloads: 2, vanished: true });
  });

  it("[sim:video-gone] is never there; [sim:video-flaky=2] fails twice with 503, then serves", async () => {
    expect((await sim.fetch((await completedTask("[sim:video-gone]")).url)).status).toBe(404);
    const { url } = await completedTask("[sim:video-flaky=2]");
    expect((await sim.fetch(url)).status).toBe(503);
    expect((await sim.fetch(url)).status).toBe(503);
    expect((await sim.fetch(url)).status).toBe(200);
  });

  it("[sim:video-mb=3] streams 3 MiB of a known pattern with its length; [sim:video-chunked] leaves the length out", async () => {
    const big = await sim.fetch((await completedTask("[sim:video-mb=3]")).url);
    expect(big.headers.get("content-length")).toBe(String(3 * 1024 * 1024));
    const bytes = new Uint8Array(await big.arrayBuffer());
    expect(bytes.length).toBe(3 * 1024 * 1024);
    for (const i of [0, 1, 65_535, 65_536, 2_000_001, bytes.length - 1]) expect(bytes[i]).toBe(syntheticByte(i));
    const chunked = await sim.fetch((await completedTask("[sim:video-chunked]")).url);
    expect(chunked.headers.get("content-length")).toBeNull();
    expect(new Uint8Array(await chunked.arrayBuffer())).toEqual(tinyMp4());
  });
});
