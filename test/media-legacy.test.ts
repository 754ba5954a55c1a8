import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { base64url, hmacSha256 } from "../src/lib/crypto";
import { tinyMp4 } from "../sim/video-fixture";
import { admin, advanceUpstream, api, deliverCallbacks, eventually, expectError, getTask, json, ledgerObject, nonce, t2v, tenantWithKey } from "./helpers";

// Records and links from before every modality was archived keep working: a task record with `videos` only and an
// archive of `videos`, its object at videos/{taskId}/{i}.mp4 (metadata without the key), and /videos links already
// handed out, signed as they were.

const SIGNING_SECRET = "signing-secret-for-tests-7c1d";
const VIDEO_LINK = /^https:\/\/proxy\.test\/videos\/([0-9a-f-]{36})\/0\.mp4\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/;
const fetchProxy = (url: string, headers: Record<string, string> = {}) => exports.default.fetch(new Request(url, { headers }));

/** A /videos link as the proxy signed them before this change, computed here from the secret (not with the proxy's code). */
async function issuedVideoLink(taskId: string, exp: number): Promise<string> {
  const sig = base64url(await hmacSha256(SIGNING_SECRET, `video-url:v1\n${taskId}\n0\n${exp}`));
  return `https://proxy.test/videos/${taskId}/0.mp4?exp=${exp}&sig=${sig}`;
}

/**
 * A Hailuo task completed and archived today, then rewritten as the proxy stored such tasks before: no `result`, an
 * archive of `videos` (stored, or `pending` to be copied still), and the object, if stored, at videos/… without a key.
 */
async function legacyTask(state: "stored" | "pending") {
  const { key, keyId, tenantId } = await tenantWithKey();
  const id = (await json(await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) }))).id as string;
  await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
  await eventually(async () => expect((await getTask(key, id)).videos[0].source_url).toBeDefined(), 10_000);
  const sourceUrl = (await getTask(key, id)).videos[0].source_url as string;
  await env.VIDEOS.delete(`media/${id}/0.mp4`);
  const storedAt = Date.now() - 86_400_000;
  await runInDurableObject(ledgerObject(tenantId), async (_instance, ctx) => {
    const row = ctx.storage.sql.exec<{ record: string }>("SELECT record FROM tasks WHERE task_id = ?", id).one();
    const record = JSON.parse(row.record);
    delete record.result;
    record.videos = [{ url: sourceUrl }];
    const pending = state === "pending";
    const video = { index: 0, source_url: sourceUrl, state, attempts: pending ? 0 : 1, next_at: pending ? Date.now() : null, error: null };
    const stored = pending ? { bytes: null, etag: null, stored_at: null } : { bytes: tinyMp4().length, etag: "e", stored_at: storedAt };
    record.archive = { base_url: "https://proxy.test", started_at: storedAt, videos: [{ ...video, ...stored }] };
    ctx.storage.sql.exec("UPDATE tasks SET record = ?, next_due_at = ? WHERE task_id = ?", JSON.stringify(record), pending ? Date.now() : null, id);
    if (pending) await ctx.storage.setAlarm(Date.now());
  });
  if (state === "stored") {
    const customMetadata = { tenant: tenantId, task: id, source_url: sourceUrl, stored_at: new Date(storedAt).toISOString() };
    await env.VIDEOS.put(`videos/${id}/0.mp4`, tinyMp4(), { httpMetadata: { contentType: "video/mp4" }, customMetadata });
  }
  return { key, keyId, tenantId, id, sourceUrl };
}

describe("records and links from before every modality", () => {
  it("a videos-only record reads with its /videos link beside RunAPI's, a link issued before still plays (ranges too), and revoking its key stops it", async () => {
    const { key, keyId, tenantId, id, sourceUrl } = await legacyTask("stored");
    const task = await getTask(key, id);
    expect(task.videos).toEqual([{ url: expect.stringMatching(VIDEO_LINK), source_url: sourceUrl }]);
    expect((await fetchProxy(task.videos[0].url)).status).toBe(200);

    const issued = await issuedVideoLink(id, Math.floor(Date.now() / 1000) + 3600);
    const res = await fetchProxy(issued);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp4");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(tinyMp4());
    const part = await fetchProxy(issued, { Range: "bytes=4-11" });
    expect(part.status).toBe(206);
    expect(new TextDecoder().decode(await part.arrayBuffer())).toBe("ftypisom");
    // The /media address is another file: the old object is not served there, nor the old signature accepted.
    expect((await fetchProxy(issued.replace("/videos/", "/media/"))).status).toBe(403);

    // Its object names no key: the task's key is asked of the tenant's object, and its revocation reaches the link.
    expect((await admin(`/admin/v1/tenants/${tenantId}/keys/${keyId}`, { method: "DELETE" })).status).toBe(200);
    const error = await expectError(await fetchProxy(issued), 403, "forbidden");
    expect(error.message).toBe("This link has been revoked");
  });

  it("a copy still pending from before lands where such copies always did (videos/…, a /videos link)", async () => {
    // The alarm set for it runs the copy.
    const { key, keyId, tenantId, id, sourceUrl } = await legacyTask("pending");
    const video = await eventually(async () => {
      const v = (await getTask(key, id)).videos[0];
      expect(v.source_url).toBe(sourceUrl);
      return v;
    }, 10_000);
    expect(video.url).toMatch(VIDEO_LINK);
    expect((await env.VIDEOS.head(`videos/${id}/0.mp4`))?.customMetadata).toMatchObject({ tenant: tenantId, key: keyId, task: id });
    expect(await env.VIDEOS.head(`media/${id}/0.mp4`)).toBeNull();
    expect(new Uint8Array(await (await fetchProxy(video.url)).arrayBuffer())).toEqual(tinyMp4());
  });
});
