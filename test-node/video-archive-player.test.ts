// An archived video in a real player: Chromium's <video> loads the proxy's signed link, seeks with Range requests.
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Browser } from "playwright-core";
import { launchBrowser } from "./support/browser";
import { startProxy, type RunningProxy } from "./support/proxy";

let proxy: RunningProxy;
let browser: Browser;
beforeAll(async () => {
  [proxy, browser] = await Promise.all([startProxy(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await proxy?.dispose();
});

test("Chromium plays an archived video from the proxy's signed URL, after RunAPI's file is gone, and seeks with Range", async () => {
  const { key } = await proxy.tenantWithKey();
  const auth = { Authorization: `Bearer ${key}` };
  const res = await fetch(`${proxy.base}/api/v1/hailuo/text_to_video`, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify({ model: "hailuo-02-text-to-video-standard", prompt: `a player test ${crypto.randomUUID()}`, duration_seconds: 6 }),
  });
  const { id } = (await res.json()) as { id: string };
  let video: { url: string; source_url?: string } | undefined;
  for (let i = 0; i < 200 && !video?.source_url; i++) {
    await new Promise((r) => setTimeout(r, 100));
    video = ((await (await fetch(`${proxy.base}/api/v1/tasks/${id}`, { headers: auth })).json()) as { videos?: { url: string; source_url?: string }[] })
      .videos?.[0];
  }
  expect(video?.url.startsWith(`${proxy.base}/media/${id}/0.mp4?exp=`)).toBe(true);
  // RunAPI's link dies; the archived one lives on.
  const upstreamId = /videos\/([0-9a-f-]{36})\.mp4$/.exec(video!.source_url!)![1];
  expect((await fetch(`${proxy.simBase}/__sim/videos/${upstreamId}/vanish`, { method: "POST" })).status).toBe(200);
  expect((await fetch(video!.source_url!)).status).toBe(404);

  const page = await browser.newPage();
  const statuses: number[] = [];
  page.on("response", (r) => {
    if (r.url().includes("/media/")) statuses.push(r.status());
  });
  await page.goto(`${proxy.base}/health`);
  const played = await page.evaluate(async (src) => {
    const el = document.createElement("video");
    el.muted = true;
    el.preload = "auto";
    document.body.append(el);
    const ready = new Promise<void>((resolve, reject) => {
      el.addEventListener("loadeddata", () => resolve(), { once: true });
      el.addEventListener("error", () => reject(new Error(`media error ${el.error?.code}`)), { once: true });
    });
    el.src = src;
    await ready;
    const seeked = new Promise<void>((resolve) => el.addEventListener("seeked", () => resolve(), { once: true }));
    el.currentTime = 0.5;
    await seeked;
    return { duration: el.duration, width: el.videoWidth, height: el.videoHeight, currentTime: el.currentTime };
  }, video!.url);
  expect(played.width).toBe(160);
  expect(played.height).toBe(90);
  expect(played.duration).toBeCloseTo(1, 1);
  expect(played.currentTime).toBeCloseTo(0.5, 1);
  // The player asked for byte ranges and got partial content.
  expect(statuses).toContain(206);
  await page.close();
});
