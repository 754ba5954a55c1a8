import { mkdir, writeFile } from "node:fs/promises";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { launchBrowser } from "./support/browser";
import { type RunningProxy, startProxy } from "./support/proxy";

let proxy: RunningProxy;
let browser: Browser;
beforeAll(async () => {
  proxy = await startProxy();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await proxy?.dispose();
});

test("/openapi.json is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)", async () => {
  const doc = (await (await fetch(`${proxy.base}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
  const validator = new Validator();
  const result = await validator.validate(doc);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
  expect(validator.version).toBe("3.1");
  // The drop-in, tenant, /v1 and operator APIs are all there.
  for (const path of ["/api/v1/hailuo/text_to_video", "/api/v1/tasks/{id}", "/v1/chat/completions", "/admin/v1/tenants/{id}/ledger"])
    expect(doc.paths).toHaveProperty([path]);
});

test("/docs renders the reference offline: endpoints listed, search filters, an operation expands and Try it calls the API", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const foreign: string[] = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(proxy.base)) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  await page.goto(`${proxy.base}/docs`);
  const ops = page.locator("details.op");
  await expect.poll(() => ops.count()).toBeGreaterThan(30);
  await expect.poll(() => page.locator("details.op:visible", { hasText: "/api/v1/hailuo/text_to_video" }).count()).toBe(2);

  await page.getByLabel("Search").fill("export the ledger");
  await expect.poll(() => page.locator("details.op:visible").count()).toBe(1);
  const ledger = page.locator("details.op:visible");
  expect(await ledger.locator(":scope > summary").textContent()).toContain("/admin/v1/tenants/{id}/ledger");

  await page.getByLabel("Search").fill("create a tenant");
  const create = page.locator("details.op:visible", { hasText: "POST/admin/v1/tenants" });
  await expect.poll(() => create.count()).toBe(1);
  await create.locator(":scope > summary").click();
  const body = create.locator(".body");
  await expect.poll(() => body.isVisible()).toBe(true);
  const text = (await body.textContent()) ?? "";
  expect(text).toContain("Request body");
  expect(text).toContain("budget");
  expect(text).toContain("webhook_url");
  expect(text).toContain("invalid_request");

  // Try it: list tenants with the admin token.
  await page.getByLabel("Search").fill("list tenants");
  const list = page.locator("details.op:visible").first();
  await list.locator(":scope > summary").click();
  await page.getByLabel("Bearer token").fill(proxy.adminToken);
  await list.getByRole("button", { name: "Send" }).click();
  await expect.poll(() => list.locator("pre.out").textContent()).toContain("200");
  expect(await list.locator("pre.out").textContent()).toContain('"tenants"');
  expect(page.url()).not.toContain(proxy.adminToken);

  await page.getByLabel("Search").fill("");
  await page.locator("details.op:visible", { hasText: "POST/api/v1/hailuo/text_to_video" }).locator(":scope > summary").click();
  // The README's picture: SCREENSHOTS=1 rewrites docs/docs.png; a normal run leaves the repository as it is.
  const shot = await page.screenshot();
  expect(shot.length).toBeGreaterThan(10_000);
  if (process.env.SCREENSHOTS === "1") {
    await mkdir("docs", { recursive: true });
    await writeFile("docs/docs.png", shot);
  }
  expect(foreign).toEqual([]);
  await page.close();
});

test("/docs Try it shows a billable call's price and sends it only when the operator says so", async () => {
  const { key, tenantId } = await proxy.tenantWithKey({ budget: { limit_usd: 2, period: "day" } });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${proxy.base}/docs`);
  await expect.poll(() => page.locator("details.op").count()).toBeGreaterThan(30);
  const op = page.locator("details.op", { hasText: "POST/api/v1/hailuo/text_to_video" });
  await op.locator(":scope > summary").click();
  expect(await op.locator(".billable").textContent()).toContain("asks before anything is charged");
  await page.getByLabel("Bearer token").fill(key);
  const tenantScope = async () => (await proxy.admin("GET", `/admin/v1/tenants/${tenantId}/usage`)).json.budgets[0];
  const reserved = async () => (await tenantScope()).reserved_usd;

  await op.getByRole("button", { name: "Send" }).click();
  const confirm = page.locator("dialog.confirm[open]");
  await expect.poll(() => confirm.count()).toBe(1);
  // The example body names the first model (02 pro, 6 s): RunAPI's 57¢, read from /api/v1/estimate (nothing reserved by asking).
  expect(await confirm.textContent()).toContain("It reserves $0.57 (hailuo-02-text-to-video-pro)");
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect.poll(() => op.locator("pre.out").textContent()).toBe("Not sent.");
  expect(await reserved()).toBe(0);

  await op.getByRole("button", { name: "Send" }).click();
  await page.locator("dialog.confirm[open]").getByRole("button", { name: "Send and pay" }).click();
  await expect.poll(() => op.locator("pre.out").textContent()).toContain("200");
  // Held, or already charged when the simulator finished the task first: exactly the price the operator agreed to.
  const scope = await tenantScope();
  expect(Math.round((scope.reserved_usd + scope.spent_usd) * 100)).toBe(57);

  // A read is sent at once, with no question.
  const me = page.locator("details.op", { hasText: "GET/api/v1/me" }).first();
  await me.locator(":scope > summary").click();
  await me.getByRole("button", { name: "Send" }).click();
  await expect.poll(() => me.locator("pre.out").textContent()).toContain("200");
  expect(await page.locator("dialog.confirm[open]").count()).toBe(0);
  await page.close();
});
