import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import type { Bindings } from "../src/env";
import { advanceUpstream, api, deliverCallbacks, eventually, expectError, getTask, json, ledgerObject, nonce, t2v, tenantWithKey } from "./helpers";

// VIDEO_RETENTION_DAYS (default 90): the daily cron deletes older archived files. Time is moved, not waited for:
// the sweep judges age by the trigger's scheduledTime.
const DAY = 86_400_000;

async function archivedTask() {
  const { key, tenantId } = await tenantWithKey();
  const res = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) });
  const id = (await json(res)).id as string;
  await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
  const url = await eventually(async () => {
    const task = await getTask(key, id);
    expect(task.videos[0].source_url).toBeDefined();
    return task.videos[0].url as string;
  }, 10_000);
  return { key, tenantId, id, url };
}

/** Runs the Worker's cron trigger (its `scheduled` handler) as if it fired at `at`, and waits for its work. */
async function cronAt(at: number) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: new Date(at), cron: "23 4 * * *" }), env as Bindings, ctx);
  await waitOnExecutionContext(ctx);
}

describe("video retention", () => {
  it("keeps a file for VIDEO_RETENTION_DAYS, then the scheduled sweep deletes it and its link answers 404", async () => {
    const { key, tenantId, id, url } = await archivedTask();
    const storedAt = Date.parse((await env.VIDEOS.head(`media/${id}/0.mp4`))!.customMetadata!.stored_at!);

    await cronAt(storedAt + 89 * DAY);
    expect(await env.VIDEOS.head(`media/${id}/0.mp4`)).not.toBeNull();
    expect((await exports.default.fetch(new Request(url))).status).toBe(200);

    await cronAt(storedAt + 90 * DAY + 1000);
    expect(await env.VIDEOS.head(`media/${id}/0.mp4`)).toBeNull();
    const fresh = (await getTask(key, id)).videos[0].url as string;
    const error = await expectError(await exports.default.fetch(new Request(fresh)), 404, "not_found");
    expect(error.message).toMatch(/90 days/);
    // The tenant's stored bytes follow the same clock.
    expect(await ledgerObject(tenantId).videoStorage(storedAt + 89 * DAY, 90 * DAY)).toMatchObject({ videos: 1 });
    expect(await ledgerObject(tenantId).videoStorage(storedAt + 90 * DAY + 1000, 90 * DAY)).toMatchObject({ videos: 0, bytes: 0 });
  });

  it("deletes only what is old, under media/ and under videos/ (archives made when only videos were): a file stored later stays", async () => {
    const old = await archivedTask();
    const oldAt = Date.parse((await env.VIDEOS.head(`media/${old.id}/0.mp4`))!.customMetadata!.stored_at!);
    const at = (ms: number) => ({ customMetadata: { stored_at: new Date(ms).toISOString() } });
    // An image and a video of the earlier kind as old as the first, and newer objects of both, stored 30 days later.
    const oldImage = `media/${crypto.randomUUID()}/0.png`;
    const oldVideo = `videos/${crypto.randomUUID()}/0.mp4`;
    const newerImage = `media/${crypto.randomUUID()}/0.png`;
    const newerVideo = `videos/${crypto.randomUUID()}/0.mp4`;
    await env.VIDEOS.put(oldImage, "x", at(oldAt));
    await env.VIDEOS.put(oldVideo, "x", at(oldAt));
    await env.VIDEOS.put(newerImage, "x", at(oldAt + 30 * DAY));
    await env.VIDEOS.put(newerVideo, "x", at(oldAt + 30 * DAY));
    await cronAt(oldAt + 91 * DAY);
    for (const gone of [`media/${old.id}/0.mp4`, oldImage, oldVideo]) expect(await env.VIDEOS.head(gone), gone).toBeNull();
    for (const kept of [newerImage, newerVideo]) expect(await env.VIDEOS.head(kept), kept).not.toBeNull();
  });
});
