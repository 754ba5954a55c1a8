import { afterAll, beforeAll, expect, test } from "vitest";
import { launchBrowser } from "./support/browser";
import { startProxy, type RunningProxy } from "./support/proxy";

let proxy: RunningProxy;
beforeAll(async () => {
  proxy = await startProxy();
});
afterAll(() => proxy?.dispose());

test("a create made over real HTTP reaches completed through the simulator's callback", async () => {
  const { key } = await proxy.tenantWithKey();
  const res = await fetch(`${proxy.base}/api/v1/hailuo/text_to_video`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ model: "hailuo-02-text-to-video-standard", prompt: "a node-side smoke test", duration_seconds: 6 }),
  });
  expect(res.status).toBe(200);
  const { id } = (await res.json()) as { id: string };
  let status = "pending";
  for (let i = 0; i < 100 && status !== "completed"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const task = (await (await fetch(`${proxy.base}/api/v1/tasks/${id}`, { headers: { Authorization: `Bearer ${key}` } })).json()) as { status: string };
    status = task.status;
  }
  expect(status).toBe("completed");
});

test("Chromium opens a page the proxy serves", async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const res = await page.goto(`${proxy.base}/health`);
    expect(res?.status()).toBe(200);
    expect(await page.textContent("body")).toContain('"ok":true');
  } finally {
    await browser.close();
  }
});
