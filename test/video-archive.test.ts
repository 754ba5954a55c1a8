import { env, exports } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signMediaUrl } from "../src/domain/media-url";
import { syntheticByte } from "../sim/videos";
import { tinyMp4 } from "../sim/video-fixture";
import {
  admin,
  advanceUpstream,
  api,
  deliverCallbacks,
  eventually,
  expectError,
  getTask,
  json,
  me,
  nonce,
  sim,
  t2v,
  tenantWithKey,
  streamReader,
  webhookReceiver,
} from "./helpers";

// SPEC §11: completed tasks' videos are copied into R2 (Miniflare's real local R2) and served by the proxy.
const SIGNING_SECRET = "signing-secret-for-tests-7c1d";
const VIDEO_URL = /^https:\/\/proxy\.test\/media\/([0-9a-f-]{36})\/0\.mp4\?exp=(\d+)&sig=([A-Za-z0-9_-]{43})$/;
/** The proxy's signed link to file 0 (an MP4) of a task, expiring at `exp`. */
const signedMp4 = (taskId: string, exp: number) => signMediaUrl(SIGNING_SECRET, "https://proxy.test", { address: "media", taskId, index: 0, ext: "mp4" }, exp);

/** Creates a task with `prompt`, completes it at RunAPI and delivers RunAPI's callback. */
async function completedTask(prompt: string) {
  const { key, tenantId } = await tenantWithKey();
  const res = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(`${nonce()} ${prompt}`) });
  expect(res.status).toBe(200);
  const id = (await json(res)).id as string;
  const upstreamId = await advanceUpstream(id, { status: "completed" });
  await deliverCallbacks(upstreamId);
  return { key, tenantId, id, upstreamId };
}

/** Waits until the task shows its archived video. */
async function archived(key: string, id: string): Promise<{ url: string; source_url: string }> {
  return eventually(async () => {
    const task = await getTask(key, id);
    expect(task.status).toBe("completed");
    expect(task.videos[0].source_url).toBeDefined();
    return task.videos[0];
  }, 10_000);
}

afterEach(() => vi.restoreAllMocks());

/** Fetches a URL the proxy handed out. */
function fetchProxy(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<Response> {
  return exports.default.fetch(new Request(url, { headers, method }));
}

async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

describe("video archive: copy and download", () => {
  it("copies the finished video into R2; the task then shows the proxy's signed URL and RunAPI's as source_url; the download is byte-exact", async () => {
    const { key, tenantId, id, upstreamId } = await completedTask("a fox");
    const video = await archived(key, id);
    expect(video.source_url).toBe(`https://runapi.test/videos/${upstreamId}.mp4`);
    const [, taskId, exp] = VIDEO_URL.exec(video.url) ?? [];
    expect(taskId).toBe(id);
    // VIDEO_URL_TTL_SECONDS defaults to 7 days (rounded up to the hour).
    const ttl = Number(exp) - Date.now() / 1000;
    expect(ttl).toBeGreaterThan(7 * 86_400 - 5);
    expect(ttl).toBeLessThanOrEqual(7 * 86_400 + 3600);

    const res = await fetchProxy(video.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp4");
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]+"$/);
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get("cache-control") ?? "")?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(Number(exp) - Math.floor(Date.now() / 1000) + 1); // never cached past the link's expiry
    expect(await bytesOf(res)).toEqual(tinyMp4());

    // The object records whose it is and where it came from.
    const object = await env.VIDEOS.head(`media/${id}/0.mp4`);
    expect(object?.customMetadata).toMatchObject({ tenant: tenantId, task: id, source_url: video.source_url });
    expect(Date.parse(object!.customMetadata!.stored_at!)).toBeGreaterThan(Date.now() - 60_000);

    // Stored bytes per tenant: in /me and the operator's usage.
    const storage = { videos: 1, bytes: tinyMp4().length, retention_days: 90 };
    expect((await me(key)).video_storage).toEqual(storage);
    expect((await json(await admin(`/admin/v1/tenants/${tenantId}/usage`))).video_storage).toEqual(storage);
  });

  it("re-signs the link on every read, within the same hour the same link", async () => {
    const { key, id } = await completedTask("a fox");
    const first = await archived(key, id);
    const second = (await getTask(key, id)).videos[0];
    expect(second.url).toBe(first.url);
    expect((await fetchProxy(second.url)).status).toBe(200);
  });

  it("serves byte ranges so players can seek: 206 with Content-Range, a suffix range, 416 past the end, HEAD, If-None-Match", async () => {
    const { key, id } = await completedTask("a fox");
    const { url } = await archived(key, id);
    const whole = tinyMp4();

    const part = await fetchProxy(url, { Range: "bytes=100-1099" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-1099/${whole.length}`);
    expect(part.headers.get("content-length")).toBe("1000");
    expect(await bytesOf(part)).toEqual(whole.subarray(100, 1100));

    const tail = await fetchProxy(url, { Range: "bytes=-16" });
    expect(tail.status).toBe(206);
    expect(tail.headers.get("content-range")).toBe(`bytes ${whole.length - 16}-${whole.length - 1}/${whole.length}`);
    expect(await bytesOf(tail)).toEqual(whole.subarray(whole.length - 16));

    const open = await fetchProxy(url, { Range: "bytes=2900-" });
    expect(open.status).toBe(206);
    expect(await bytesOf(open)).toEqual(whole.subarray(2900));

    const past = await fetchProxy(url, { Range: `bytes=${whole.length}-` });
    const error = await expectError(past, 416, "range_not_satisfiable");
    expect(error.message).toContain(String(whole.length));
    expect(past.headers.get("content-range")).toBe(`bytes */${whole.length}`);

    const head = await fetchProxy(url, {}, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(whole.length));
    const etag = head.headers.get("etag")!;
    expect((await fetchProxy(url, { "If-None-Match": etag })).status).toBe(304);
    // A Range with a stale If-Range validator gets the whole (new) video.
    expect((await fetchProxy(url, { Range: "bytes=0-9", "If-Range": '"stale"' })).status).toBe(200);
  });

  it("the copy outlives RunAPI's file: once the upstream link is gone, the proxy's URL still serves it", async () => {
    const { key, id } = await completedTask("a fox");
    const video = await archived(key, id);
    const upstreamId = /videos\/([0-9a-f-]{36})\.mp4$/.exec(video.source_url)![1];
    expect((await sim(`/__sim/videos/${upstreamId}/vanish`, { method: "POST" })).status).toBe(200);
    expect((await sim(`/videos/${upstreamId}.mp4`)).status).toBe(404);

    const fresh = (await getTask(key, id)).videos[0];
    const res = await fetchProxy(fresh.url);
    expect(res.status).toBe(200);
    expect(await bytesOf(res)).toEqual(tinyMp4());
  });

  it("copies a source that sends no length, in 8 MiB parts (9 MiB: two parts), byte-exact", async () => {
    const { key, id } = await completedTask("[sim:video-mb=9] [sim:video-chunked]");
    const { url } = await archived(key, id);
    const size = 9 * 1024 * 1024;
    const head = await fetchProxy(url, {}, "HEAD");
    expect(head.headers.get("content-length")).toBe(String(size));
    // Bytes on both sides of the part boundary.
    const boundary = 8 * 1024 * 1024;
    const res = await fetchProxy(url, { Range: `bytes=${boundary - 4}-${boundary + 3}` });
    expect(res.status).toBe(206);
    expect([...(await bytesOf(res))]).toEqual([...Array(8).keys()].map((k) => syntheticByte(boundary - 4 + k)));
  });
});

describe("video archive: links are credentials", () => {
  it("refuses a tampered signature, another task's or index's signature, a changed expiry, a missing signature, and an expired link (403)", async () => {
    const { key, id } = await completedTask("a fox");
    const { url } = await archived(key, id);
    const [, , exp, sig] = VIDEO_URL.exec(url)!;
    const flipped = sig!.slice(0, -1) + (sig!.endsWith("A") ? "B" : "A");
    const other = crypto.randomUUID();
    const refused = [
      url.replace(`sig=${sig}`, `sig=${flipped}`),
      url.replace(`exp=${exp}`, `exp=${Number(exp) + 3600}`),
      url.replace(`/${id}/0.mp4`, `/${other}/0.mp4`),
      url.replace(`/${id}/0.mp4`, `/${id}/1.mp4`),
      url.replace(`/${id}/0.mp4`, `/${id}/0.png`),
      // The same signature on the older /videos address: signed under another label, never valid there.
      url.replace("/media/", "/videos/"),
      url.split("?")[0]!,
    ];
    for (const bad of refused) {
      const error = await expectError(await fetchProxy(bad), 403, "forbidden");
      expect(error.message).toMatch(/read the task again/);
    }
    // A link that was signed correctly but whose time is up.
    const expired = await signedMp4(id, Math.floor(Date.now() / 1000) - 1);
    const error = await expectError(await fetchProxy(expired), 403, "forbidden");
    expect(error.message).toMatch(/expired/);
    // The same link with an expiry ahead works: the signature, not the task id, is what is checked.
    expect((await fetchProxy(await signedMp4(id, Math.floor(Date.now() / 1000) + 60))).status).toBe(200);
  });

  it("a correctly signed link to a video that is not in the archive is a 404", async () => {
    const url = await signedMp4(crypto.randomUUID(), Math.floor(Date.now() / 1000) + 60);
    await expectError(await fetchProxy(url), 404, "not_found");
  });
});

describe("video archive: failed downloads", () => {
  it("retries a flaky download with backoff, then stores it ([sim:video-flaky=2]: two 503s)", async () => {
    const { key, id, upstreamId } = await completedTask("[sim:video-flaky=2]");
    const video = await archived(key, id);
    expect(video.url).toMatch(VIDEO_URL);
    expect(await json(await sim(`/__sim/videos/${upstreamId}`))).toMatchObject({ downloads: 3 });
  });

  it("gives up after its attempts without harming the task: still completed, charged once, RunAPI's URL kept, one clear log line", async () => {
    const warn = vi.spyOn(console, "warn");
    const { key, id, upstreamId } = await completedTask("[sim:video-flaky=999]");
    const sourceUrl = `https://runapi.test/videos/${upstreamId}.mp4`;
    // Meanwhile, and throughout, the task is completed and shows RunAPI's URL.
    await eventually(async () => expect(await getTask(key, id)).toMatchObject({ status: "completed", videos: [{ url: sourceUrl }], charged_usd: 0.3 }));
    await eventually(async () => expect((await json(await sim(`/__sim/videos/${upstreamId}`))).downloads).toBe(8), 15_000);
    // No ninth attempt comes.
    await new Promise((r) => setTimeout(r, 300));
    expect((await json(await sim(`/__sim/videos/${upstreamId}`))).downloads).toBe(8);
    const after = await getTask(key, id);
    expect(after).toMatchObject({ status: "completed", charged_usd: 0.3 });
    expect(after.videos).toEqual([{ url: sourceUrl }]);
    expect((await me(key)).budgets.tenant).toMatchObject({ spent_usd: 0.3, reserved_usd: 0 });
    expect((await me(key)).video_storage).toMatchObject({ videos: 0, bytes: 0 });
    const lines = warn.mock.calls.map((c) => String(c[0])).filter((l) => l.includes("archive_gave_up") && l.includes(id));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: "warn",
      task_id: id,
      file_index: 0,
      attempts: 8,
      source_host: "runapi.test",
      reason: "the source answered 503",
    });
  }, 30_000);

  it("a link that is gone (404) is not retried: one attempt, RunAPI's URL kept", async () => {
    const { key, id, upstreamId } = await completedTask("[sim:video-gone]");
    await eventually(async () => expect((await json(await sim(`/__sim/videos/${upstreamId}`))).downloads).toBe(1));
    await new Promise((r) => setTimeout(r, 200));
    expect((await json(await sim(`/__sim/videos/${upstreamId}`))).downloads).toBe(1);
    expect((await getTask(key, id)).videos).toEqual([{ url: `https://runapi.test/videos/${upstreamId}.mp4` }]);
  });
});

describe("video archive: the tenant webhook", () => {
  const HOOK = "https://hooks.tenant.test/videos";

  const receiver = () => webhookReceiver(HOOK);

  it("waits (bounded) for the copy, so the webhook carries the durable link and RunAPI's as source_url", async () => {
    const received = receiver();
    const { key, webhookSecret } = await tenantWithKey({ webhook_url: HOOK });
    const res = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(`${nonce()} [sim:video-flaky=1]`) });
    const id = (await json(res)).id as string;
    await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
    await eventually(async () => expect(received).toHaveLength(1), 10_000);
    const payload = new Webhook(webhookSecret).verify(received[0]!.body, received[0]!.headers) as {
      status: string;
      videos: { url: string; source_url?: string }[];
    };
    expect(payload.status).toBe("completed");
    expect(payload.videos[0]!.url).toMatch(VIDEO_URL);
    expect(payload.videos[0]!.source_url).toMatch(/^https:\/\/runapi\.test\/videos\//);
    expect((await fetchProxy(payload.videos[0]!.url)).status).toBe(200);
  });
});

describe("video archive: live events", () => {
  it("the completed event waits (bounded) for the copy, so a page following the task gets the archived link", async () => {
    const { key } = await tenantWithKey();
    const res = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(`${nonce()} [sim:video-flaky=1]`) });
    const id = (await json(res)).id as string;
    const stream = await api(key, `/api/v1/tasks/${id}/events`);
    const reading = streamReader(stream);
    await reading.until('"status":"pending"');
    await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
    await reading.until('"status":"completed"');
    const text = await reading.rest();
    const events = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!));
    const completed = events.filter((e) => e.status === "completed");
    expect(completed).toHaveLength(1);
    expect(completed[0].videos[0].url).toMatch(VIDEO_URL);
    expect(completed[0].videos[0].source_url).toMatch(/^https:\/\/runapi\.test\/videos\//);
    // A stream opened after the copy landed starts with the archived link and ends.
    const later = await (await api(key, `/api/v1/tasks/${id}/events`)).text();
    expect(JSON.parse(/^data: (.*)$/m.exec(later)![1]!).videos[0].url).toMatch(VIDEO_URL);
  });
});
