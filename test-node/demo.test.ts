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
async function openDemo(pk: string) {
  const page = await browser.newPage({ viewport: { width: 412, height: 915 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
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

test("a visitor sees the price, clicks Generate, follows the status live and watches the finished video; no secret reaches the page", async () => {
  const { secret, pk } = await demoTenant();
  const { page, bodies, credentials } = await openDemo(pk);

  await page.getByLabel("Prompt").fill("a paper boat sailing down a rainy street, close-up");
  await expect.poll(() => page.getByLabel("Model").inputValue()).toBe("hailuo-02-text-to-video-standard");
  await waitForText(page, "#price", "$0.50"); // 10 s is the model's default length
  await page.getByLabel("Length").selectOption("6");
  await waitForText(page, "#price", "$0.30");
  // An image model asks for its first frame and offers only its own resolutions.
  await page.getByLabel("Model").selectOption("hailuo-2.3-image-to-video-pro");
  expect(await page.getByLabel("First frame image URL").isVisible()).toBe(true);
  expect(await page.getByLabel("Length").inputValue()).toBe("6"); // the model's default
  expect(await page.locator("#resolution option").allTextContents()).toEqual(["768p", "1080p"]); // at 6 s
  expect(await page.getByLabel("Resolution").inputValue()).toBe("1080p"); // the model's default
  await page.getByLabel("Length").selectOption("10");
  expect(await page.locator("#resolution option").allTextContents()).toEqual(["768p"]);
  await waitForText(page, "#price", "$0.90"); // RunAPI's published price for 2.3 pro at 10 s 768p
  await page.getByLabel("Model").selectOption("hailuo-02-text-to-video-standard");
  await page.getByLabel("Length").selectOption("6");
  expect(await page.getByLabel("First frame image URL").isVisible()).toBe(false);
  await waitForText(page, "#price", "$0.30");

  const created = page.waitForResponse((r) => r.url().endsWith("/api/v1/hailuo/text_to_video") && r.request().method() === "POST");
  await page.getByRole("button", { name: "Generate" }).click();
  const { id } = (await (await created).json()) as { id: string };
  await waitForText(page, "[role=status]", "Done! Your video is ready.");

  const task = (await (await fetch(`${proxy.base}/api/v1/tasks/${id}`, { headers: { Authorization: `Bearer ${secret}` } })).json()) as {
    status: string;
    videos: { url: string }[];
  };
  expect(task.status).toBe("completed");
  expect(await page.locator("video").getAttribute("src")).toBe(task.videos[0]!.url);
  expect(await page.locator("#result").isVisible()).toBe(true);
  expect(await page.getByRole("button", { name: "Generate" }).isEnabled()).toBe(true);

  // The README's picture: `DEMO_SCREENSHOT=1 npx vitest run -c vitest.node.config.ts test-node/demo.test.ts` rewrites it.
  const shot = await page.screenshot({ fullPage: true });
  expect(shot.length).toBeGreaterThan(10_000);
  if (process.env.SCREENSHOTS === "1" || process.env.DEMO_SCREENSHOT === "1") {
    await mkdir("docs", { recursive: true });
    await writeFile("docs/demo.png", shot);
  }

  // No secret in the page or in any response it received; it only ever presented the publishable key.
  const seen = await Promise.all(bodies);
  const texts = [await page.content(), ...seen.map((s) => s.body ?? "")];
  for (const s of [UPSTREAM_KEY, ADMIN_TOKEN, SIGNING_SECRET, secret]) {
    for (const text of texts) expect(text.includes(s), `a secret reached the page`).toBe(false);
  }
  // Chromium may drop an event stream's body once the page closes it; the page's own copy of each event covers it.
  expect(seen.filter((s) => s.body === null && !s.url.includes("/events?")).map((s) => s.url)).toEqual([]);
  const events = await page.evaluate(() => (window as unknown as { __events: string[] }).__events);
  expect(events.some((e) => e.includes('"status":"completed"'))).toBe(true);
  for (const s of [UPSTREAM_KEY, ADMIN_TOKEN, SIGNING_SECRET, secret]) expect(events.join("\n").includes(s)).toBe(false);
  expect([...credentials]).toEqual([`Bearer ${pk}`]);
  await page.close();
});

test("402: a visitor whose budget is spent is told so in plain words, with when it resets", async () => {
  const { pk } = await demoTenant({ end_user_budget: { limit_usd: 0.1, period: "day" } });
  const { page } = await openDemo(pk);
  await page.getByLabel("Length").selectOption("6");
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
