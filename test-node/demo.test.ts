// The public demo page in real Chromium against the proxy + simulator in local workerd.
import { mkdir, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Browser, Page, Response } from "playwright-core";
import { launchBrowser } from "./support/browser";
import { ADMIN_TOKEN, startProxy, UPSTREAM_KEY, type RunningProxy } from "./support/proxy";

const SIGNING_SECRET = "node-test-signing-secret-0a9b";

let proxy: RunningProxy;
let browser: Browser;
beforeAll(async () => {
  [proxy, browser] = await Promise.all([startProxy(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await proxy?.dispose();
});

/** A fresh tenant with a secret key and a publishable key allowed from the proxy's own origin. */
async function demoTenant(tenant: Record<string, unknown> = {}, key: Record<string, unknown> = {}) {
  const { tenantId, key: secret } = await proxy.tenantWithKey({ end_user_budget: { limit_usd: 5, period: "day" }, ...tenant });
  const pk = await proxy.admin("POST", `/admin/v1/tenants/${tenantId}/keys`, { kind: "publishable", allowed_origins: [proxy.base], ...key });
  expect(pk.status, pk.text).toBe(201);
  return { tenantId, secret, pk: pk.json.key as string };
}

/** A phone-sized page that records every response (with its body) and every request's credential. */
async function openDemo(pk: string, viewport = { width: 412, height: 915 }) {
  const page = await browser.newPage({ viewport, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
  const bodies: Promise<{ url: string; body: string | null }>[] = [];
  const credentials = new Set<string>();
  // Keep a copy of every server-sent event the page receives.
  await page.addInitScript(() => {
    const w = window as unknown as { __events: string[]; EventSource: typeof EventSource };
    w.__events = [];
    const Original = w.EventSource;
    w.EventSource = class extends Original {
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, init);
        this.addEventListener("status", (ev) => w.__events.push((ev as MessageEvent<string>).data));
      }
    };
  });
  page.on("response", (res: Response) =>
    bodies.push(
      res.body().then(
        (b) => ({ url: res.url(), body: b.toString("utf8") }),
        () => ({ url: res.url(), body: null }),
      ),
    ),
  );
  page.on("request", (req) => {
    const auth = req.headers().authorization;
    if (auth) credentials.add(auth);
    const token = new URL(req.url()).searchParams.get("access_token");
    if (token) credentials.add(`Bearer ${token}`);
  });
  const res = await page.goto(`${proxy.base}/demo?key=${pk}`);
  expect(res?.status()).toBe(200);
  return { page, bodies, credentials };
}

async function waitForText(page: Page, selector: string, text: string | RegExp, timeout = 20_000) {
  await page.waitForFunction(
    ({ selector, source, flags }) => new RegExp(source, flags).test(document.querySelector(selector)?.textContent ?? ""),
    {
      selector,
      source: typeof text === "string" ? text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : text.source,
      flags: typeof text === "string" ? "" : text.flags,
    },
    { timeout },
  );
}

/** Per-minute windows are aligned to the minute: keep a two-request sequence inside one. */
async function awayFromMinuteEdge(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 45_000) await new Promise((r) => setTimeout(r, 60_500 - into));
}

const SECRETS = [UPSTREAM_KEY, ADMIN_TOKEN, SIGNING_SECRET];

/** A task as the tenant's own server reads it. */
async function taskOf(secret: string, id: string) {
  const res = await fetch(`${proxy.base}/api/v1/tasks/${id}`, { headers: { Authorization: `Bearer ${secret}` } });
  return (await res.json()) as { status: string; videos?: { url: string; source_url?: string }[]; images?: { url: string; source_url?: string }[] };
}

/** Makes what the page has picked and waits for the page to say it is done; the task's id. */
async function generate(page: Page, path: string, done: string): Promise<string> {
  const created = page.waitForResponse((r) => r.url().endsWith(path) && r.request().method() === "POST");
  await page.getByRole("button", { name: "Generate" }).click();
  const res = await created;
  expect(res.status(), await res.text()).toBe(200);
  await waitForText(page, "[role=status]", done);
  return ((await res.json()) as { id: string }).id;
}

/** The labels of a select's options. */
const optionsOf = (page: Page, label: string) => page.getByLabel(label, { exact: true }).locator("option").allTextContents();

test("a visitor picks among the models the key enables, sees each one's choices and price, and gets an image in an <img> and a video in a <video>; no secret reaches the page", async () => {
  const { secret, pk } = await demoTenant({}, { allowed_models: ["hailuo", "seedream/text_to_image", "kling-v2.6"] });
  const { page, bodies, credentials } = await openDemo(pk);
  const model = page.getByLabel("Model");

  // Grouped by model line; only what the key enables.
  expect(await page.locator("#model optgroup").evaluateAll((gs) => gs.map((g) => g.getAttribute("label")))).toEqual(["Hailuo", "Kling", "Seedream"]);
  const values = await page.locator("#model option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  expect(values).toEqual([
    "hailuo/text_to_video/hailuo-02-text-to-video-pro",
    "hailuo/text_to_video/hailuo-02-text-to-video-standard",
    "hailuo/image_to_video/hailuo-02-image-to-video-pro",
    "hailuo/image_to_video/hailuo-02-image-to-video-standard",
    "hailuo/image_to_video/hailuo-2.3-image-to-video-pro",
    "hailuo/image_to_video/hailuo-2.3-image-to-video-standard",
    "kling/text_to_video/kling-v2.6",
    "kling/image_to_video/kling-v2.6",
    "kling/motion_control/kling-v2.6",
    "seedream/text_to_image/seedream-4.5-text-to-image",
    "seedream/text_to_image/seedream-5-lite-text-to-image",
    "seedream/text_to_image/seedream-5-pro-text-to-image",
    "seedream/text_to_image/seedream-v4-text-to-image",
  ]);

  // Hailuo: a fixed length is shown, not chosen; a choice of lengths changes the price.
  expect(await model.inputValue()).toBe("hailuo/text_to_video/hailuo-02-text-to-video-pro");
  expect(await optionsOf(page, "Length")).toEqual(["6 seconds"]);
  expect(await page.getByLabel("Length").isDisabled()).toBe(true);
  await waitForText(page, "#price", "$0.57");
  await model.selectOption("hailuo/text_to_video/hailuo-02-text-to-video-standard");
  expect(await optionsOf(page, "Length")).toEqual(["6 seconds", "10 seconds"]);
  await waitForText(page, "#price", "$0.50"); // 10 s is the model's default length
  await page.getByLabel("Length").selectOption("6");
  await waitForText(page, "#price", "$0.30");
  // Image to video asks for its first frame and offers only its own resolutions, 1080p only at 6 s.
  await model.selectOption("hailuo/image_to_video/hailuo-2.3-image-to-video-pro");
  expect(await page.getByLabel("First frame image URL").isVisible()).toBe(true);
  expect(await page.getByLabel("Length").inputValue()).toBe("6"); // the model's default
  expect(await optionsOf(page, "Resolution")).toEqual(["768p", "1080p"]);
  expect(await page.getByLabel("Resolution").inputValue()).toBe("1080p");
  await page.getByLabel("Length").selectOption("10");
  expect(await optionsOf(page, "Resolution")).toEqual(["768p"]);
  await waitForText(page, "#price", "$0.90"); // RunAPI's published price for 2.3 pro at 10 s 768p

  // Kling v2.6 text to video: its mode and its sound switch set the price.
  await model.selectOption("kling/text_to_video/kling-v2.6");
  expect(await page.getByLabel("First frame image URL").count()).toBe(0);
  expect(await optionsOf(page, "Mode")).toEqual(["std", "pro"]);
  expect(await optionsOf(page, "Length")).toEqual(["5 seconds", "10 seconds"]);
  expect(await optionsOf(page, "Aspect ratio")).toEqual(["16:9", "9:16", "1:1"]);
  await waitForText(page, "#price", "$0.12");
  await page.getByLabel("Mode", { exact: true }).selectOption("pro");
  await waitForText(page, "#price", "$0.20");
  await page.getByLabel("With sound").check();
  await waitForText(page, "#price", "$0.40");

  // Seedream 5 pro, an image model: its own aspect ratios and qualities, no length.
  await model.selectOption("seedream/text_to_image/seedream-5-pro-text-to-image");
  expect(await page.getByLabel("Length").count()).toBe(0);
  expect(await optionsOf(page, "Aspect ratio")).toEqual(["1:1", "4:3", "3:4", "16:9", "9:16", "2:3", "3:2", "21:9"]);
  expect(await optionsOf(page, "Quality")).toEqual(["basic", "high"]);
  await waitForText(page, "#price", "$0.07");
  await page.getByLabel("Quality").selectOption("high");
  await waitForText(page, "#price", "$0.14");
  await page.getByLabel("Aspect ratio").selectOption("16:9");
  await page.getByLabel("Prompt").fill("a lighthouse on a cliff at dusk, oil painting");
  const imageTask = await generate(page, "/api/v1/seedream/text_to_image", "Done! Your image is ready.");
  const image = (await taskOf(secret, imageTask)).images![0]!;
  const img = page.locator("#outputs img");
  expect([image.url, image.source_url]).toContain(await img.getAttribute("src"));
  expect(await img.getAttribute("alt")).toBe("Generated image: a lighthouse on a cliff at dusk, oil painting");
  await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBeGreaterThan(0); // the picture really loaded
  expect(await page.locator("#outputs video").count()).toBe(0);
  expect(await page.getByRole("link", { name: "Open the image" }).isVisible()).toBe(true);

  // The README's picture: `SCREENSHOTS=1 npx vitest run -c vitest.node.config.ts test-node/demo.test.ts` rewrites it.
  const shot = await page.screenshot({ fullPage: true });
  expect(shot.length).toBeGreaterThan(10_000);
  if (process.env.SCREENSHOTS === "1" || process.env.DEMO_SCREENSHOT === "1") {
    await mkdir("docs", { recursive: true });
    await writeFile("docs/demo.png", shot);
  }

  // A video model next: the task's video plays in a <video>.
  await model.selectOption("hailuo/text_to_video/hailuo-02-text-to-video-standard");
  await page.getByLabel("Length").selectOption("6");
  await waitForText(page, "#price", "$0.30");
  const videoTask = await generate(page, "/api/v1/hailuo/text_to_video", "Done! Your video is ready.");
  const task = await taskOf(secret, videoTask);
  expect(task.status).toBe("completed");
  const video = task.videos![0]!;
  expect([video.url, video.source_url]).toContain(await page.locator("#outputs video").getAttribute("src"));
  expect(await page.locator("#outputs img").count()).toBe(0);
  expect(await page.getByRole("button", { name: "Generate" }).isEnabled()).toBe(true);

  // No secret in the page or in any response it received; it only ever presented the publishable key.
  const seen = await Promise.all(bodies);
  const texts = [await page.content(), ...seen.map((s) => s.body ?? "")];
  for (const s of [...SECRETS, secret]) {
    for (const text of texts) expect(text.includes(s), `a secret reached the page`).toBe(false);
  }
  // Chromium may drop an event stream's body once the page closes it; the page's own copy of each event covers it.
  expect(seen.filter((s) => s.body === null && !s.url.includes("/events?")).map((s) => s.url)).toEqual([]);
  const events = await page.evaluate(() => (window as unknown as { __events: string[] }).__events);
  expect(events.some((e) => e.includes('"status":"completed"'))).toBe(true);
  for (const s of [...SECRETS, secret]) expect(events.join("\n").includes(s)).toBe(false);
  expect([...credentials]).toEqual([`Bearer ${pk}`]);
  await page.close();
});

test("a key limited to one service offers only that service's models, at 375 px, labelled and usable by keyboard; any other model is refused even when sent by hand", async () => {
  const { pk } = await demoTenant({}, { allowed_models: ["flux"] });
  const { page } = await openDemo(pk, { width: 375, height: 812 });
  const values = await page.locator("#model option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  expect(values).toEqual([
    "flux/text_to_image/flux-2-klein",
    "flux/text_to_image/flux-dev",
    "flux/text_to_image/flux-pro",
    "flux/remix_image/flux-dev",
    "flux/remix_image/flux-pro",
  ]);
  expect(await page.locator("h1").textContent()).toBe("Make an image");
  await waitForText(page, "#price", "$0.03");

  // Keyboard: the picker takes arrow keys, and the new model's choices and price follow.
  await page.getByLabel("Model").focus();
  await page.keyboard.press("ArrowDown");
  expect(await page.getByLabel("Model").inputValue()).toBe("flux/text_to_image/flux-dev");
  await waitForText(page, "#price", "$0.07");
  await page.getByLabel("Model").selectOption("flux/remix_image/flux-pro");
  expect(await page.getByLabel("Source image URL").getAttribute("type")).toBe("url");
  // Generate without the picture: the page asks for it and focuses it, nothing is sent.
  await page.getByRole("button", { name: "Generate" }).click();
  await waitForText(page, "[role=alert]", "Please give the link (Source image URL)");
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("f-source_image_url");
  // Every visible control is labelled, and nothing is wider than the phone.
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea")]
      .filter((el) => (el as HTMLElement).offsetParent !== null && !(el as HTMLInputElement).labels?.length)
      .map((el) => el.id),
  );
  expect(unlabelled).toEqual([]);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);

  // The key does not allow Hailuo: refused with 403 even when the visitor sends it by hand from the page.
  const byHand = await page.evaluate(async (key) => {
    const res = await fetch("/api/v1/hailuo/text_to_video", {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ model: "hailuo-02-text-to-video-standard", prompt: "sent by hand", duration_seconds: 6 }),
    });
    return { status: res.status, body: await res.json() };
  }, pk);
  expect(byHand.status).toBe(403);
  expect(byHand.body.error).toMatchObject({ code: "forbidden", message: "Model hailuo-02-text-to-video-standard is not available with this key" });
  expect(byHand.body.error.details).toBeUndefined();
  await page.close();
});

test("402: a visitor whose budget is spent is told so in plain words, with when it resets", async () => {
  const { pk } = await demoTenant({ end_user_budget: { limit_usd: 0.1, period: "day" } });
  const { page } = await openDemo(pk);
  await page.getByRole("button", { name: "Generate" }).click();
  await waitForText(page, "[role=alert]", "You have used up your budget for this demo for today.");
  expect(await page.getByRole("alert").textContent()).toMatch(/It resets in about \d+ (hours|minutes?) \(/);
  expect(await page.locator("#result").isVisible()).toBe(false);
  await page.close();
});

test("429: a visitor over the per-minute limit is told how long to wait, and the button waits too", async () => {
  const { pk } = await demoTenant({}, { end_user_requests_per_minute: 1 });
  await awayFromMinuteEdge();
  // This visitor (127.0.0.1, as Cloudflare's CF-Connecting-IP would say) already made one video this minute.
  const first = await fetch(`${proxy.base}/api/v1/hailuo/text_to_video`, {
    method: "POST",
    headers: { Authorization: `Bearer ${pk}`, Origin: proxy.base, "Content-Type": "application/json" },
    body: JSON.stringify({ model: "hailuo-02-text-to-video-standard", prompt: "the first one", duration_seconds: 6 }),
  });
  expect(first.status).toBe(200);
  const { page } = await openDemo(pk);
  await page.getByRole("button", { name: "Generate" }).click();
  await waitForText(page, "[role=alert]", /Too many requests: please wait \d+ seconds, then try again\./);
  const waitText = await page.locator("#generate").textContent();
  expect(waitText).toMatch(/^Generate \(wait \d+ s\)$/);
  expect(await page.locator("#generate").isDisabled()).toBe(true);
  await page.close();
});
