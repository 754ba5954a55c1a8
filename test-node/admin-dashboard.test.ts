import { mkdir, readFile, writeFile } from "node:fs/promises";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { launchBrowser } from "./support/browser";
import { type RunningProxy, startProxy } from "./support/proxy";

let proxy: RunningProxy;
let browser: Browser;
let acme: { tenantId: string; key: string; keyId: string };

/** A create over real HTTP, waited on until the simulator's callback has settled it. */
async function completedTask(key: string, prompt: string): Promise<string> {
  const res = await fetch(`${proxy.base}/api/v1/hailuo/text_to_video`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ model: "hailuo-02-text-to-video-standard", prompt, duration_seconds: 6 }),
  });
  expect(res.status).toBe(200);
  const { id } = (await res.json()) as { id: string };
  for (let i = 0; i < 100; i++) {
    const task = (await (await fetch(`${proxy.base}/api/v1/tasks/${id}`, { headers: { Authorization: `Bearer ${key}` } })).json()) as {
      charged_usd: number | null;
    };
    if (task.charged_usd !== null) return id;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`task ${id} was not settled`);
}

beforeAll(async () => {
  proxy = await startProxy();
  browser = await launchBrowser();
  acme = await proxy.tenantWithKey({ id: "acme", name: "Acme Studios", budget: { limit_usd: 2, period: "day" } }, { kind: "secret", name: "backend" });
  await completedTask(acme.key, "a lighthouse in a storm");
  // A chat completion reserves and is charged too, but it is not a task.
  const chat = await fetch(`${proxy.base}/v1/chat/completions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${acme.key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], max_tokens: 5 }),
  });
  expect(chat.status).toBe(200);
  await chat.body?.cancel();
  await proxy.admin("POST", "/admin/v1/tenants/acme/adjustments", { amount_usd: -1.2, reason: "manual charge" });
  const other = await proxy.tenantWithKey({ id: "globex", name: "Globex Video", budget: { limit_usd: 50, period: "month" } });
  await completedTask(other.key, "a city at dawn");
  await proxy.tenantWithKey({ id: "initech", name: "Initech Demo", budget: { limit_usd: 5, period: "week" } });
});
afterAll(async () => {
  await browser?.close();
  await proxy?.dispose();
});

test("a wrong admin token is refused and nothing is shown", async () => {
  const page = await browser.newPage();
  await page.goto(`${proxy.base}/admin`);
  await page.getByLabel("Admin token").fill("not-the-admin-token-0000");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect.poll(() => page.getByRole("alert").textContent()).toContain("refused");
  expect(await page.locator("#app").isVisible()).toBe(false);
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  await page.close();
});

test("the operator signs in and sees tenants with spend against budget, a chart, keys, recent tasks and exports", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  const urls: string[] = [];
  page.on("request", (r) => urls.push(r.url()));
  await page.goto(`${proxy.base}/admin`);
  await page.getByLabel("Admin token").fill(proxy.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();

  const row = page.locator("#tenants tr[data-tenant=acme]");
  await expect.poll(() => row.textContent()).toContain("Acme Studios");
  // $0.30 settled + $1.20 debited = $1.50 of the $2/day budget.
  // $0.30 settled + a few millionths for the chat + $1.20 debited: $1.50 of the $2/day budget.
  expect(await row.textContent()).toContain("$1.50 of $2.00 / day");
  expect(await row.locator(".bar span").getAttribute("style")).toMatch(/width:75\.0%/);
  expect(await page.locator("#tenants tbody tr").count()).toBe(3);
  expect(await page.locator("#stats").textContent()).toContain("$1.80");
  expect(await page.locator("#stats .stat", { hasText: "Tasks, 30 days" }).locator(".value").textContent()).toBe("2"); // not the chat
  expect(await page.locator("#chart svg rect").count()).toBe(30);
  expect(await page.locator("#chart svg").getAttribute("aria-label")).toContain("spend per day");

  await row.click();
  await expect.poll(() => page.locator("#keys").textContent()).toContain("backend");
  await expect.poll(() => page.locator("#tasks").textContent()).toContain("completed");
  // A task id's first characters are the time it was made (UUID v7): the table shows its random last ones.
  const shown = await page.locator("#tasks code").evaluateAll((els) => els.map((e) => ({ text: e.textContent, id: e.getAttribute("title") ?? "" })));
  expect(shown.length).toBeGreaterThan(0);
  for (const s of shown) expect(s.text).toBe(`…${s.id.slice(-8)}`);
  expect(await page.locator("#tenant-chart svg").count()).toBe(1);

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByLabel("Ledger CSV for acme").click()]);
  expect(download.suggestedFilename()).toBe("ledger-acme.csv");
  const csv = await readFile((await download.path())!, "utf8");
  expect(csv.split("\r\n")[0]).toMatch(/^id,at,booked_at,type,task_id,.*amount_usd,reserved_usd,reason$/);
  expect(csv).toContain("manual charge");

  // The token stays in this tab: never in a URL, kept across a reload, gone in a new tab's storage.
  expect(urls.filter((u) => u.includes(proxy.adminToken))).toEqual([]);
  expect(await page.evaluate(() => Object.keys(localStorage).length)).toBe(0);
  // The README's picture: SCREENSHOTS=1 rewrites docs/admin.png; a normal run leaves the repository as it is.
  const shot = await page.screenshot({ fullPage: true });
  expect(shot.length).toBeGreaterThan(10_000);
  if (process.env.SCREENSHOTS === "1") {
    await mkdir("docs", { recursive: true });
    await writeFile("docs/admin.png", shot);
  }
  await page.reload();
  await expect.poll(() => page.locator("#tenants tr[data-tenant=acme]").count()).toBe(1);
  const fresh = await context.newPage();
  await fresh.goto(`${proxy.base}/admin`);
  expect(await fresh.getByLabel("Admin token").isVisible()).toBe(true);
  await context.close();
});

test("on a 375 px phone the console fits the screen and the chart's labels are drawn at their real size", async () => {
  const page = await browser.newPage({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await page.goto(`${proxy.base}/admin`);
  await page.getByLabel("Admin token").fill(proxy.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect.poll(() => page.locator("#tenants tr[data-tenant=acme]").count()).toBe(1);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  // The chart is drawn at its own width (no shrinking of a 760-unit drawing): its 11 px labels are 11 px on screen.
  const scale = await page.evaluate(() => {
    const svg = document.querySelector("#chart svg") as SVGSVGElement;
    return svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  });
  expect(scale).toBeGreaterThan(0.95);
  const labels = await page.locator("#chart svg text.axis").evaluateAll((ts) => ts.map((t) => t.getBoundingClientRect()));
  expect(Math.min(...labels.map((r) => r.height))).toBeGreaterThanOrEqual(10);
  // Date labels along the bottom do not overlap.
  const dates = (await page.locator('#chart svg text.axis[text-anchor="middle"]').evaluateAll((ts) => ts.map((t) => t.getBoundingClientRect()))).sort(
    (a, b) => a.left - b.left,
  );
  expect(dates.length).toBeGreaterThanOrEqual(3);
  for (let i = 1; i < dates.length; i++) expect(dates[i]!.left).toBeGreaterThanOrEqual(dates[i - 1]!.right);
  const chartBox = (await page.locator("#chart svg").boundingBox())!;
  expect(dates.at(-1)!.right).toBeLessThanOrEqual(chartBox.x + chartBox.width); // the last label is not cut off
  const shot = await page.screenshot();
  expect(shot.length).toBeGreaterThan(10_000);
  if (process.env.SCREENSHOTS === "1") await writeFile("docs/console-phone.png", shot);
  await page.locator("#tenants tr[data-tenant=acme]").click();
  await expect.poll(() => page.locator("#keys").textContent()).toContain("backend");
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await page.close();
});
