import { mkdir, writeFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { launchBrowser } from "./support/browser";
import { type RunningProxy, startProxy } from "./support/proxy";

// The console drives the operator API as an operator would: every action below is a click in Chromium.

let proxy: RunningProxy;
let browser: Browser;
const tenantId = `studio-${crypto.randomUUID().slice(0, 6)}`;
let viewerToken = "";

beforeAll(async () => {
  proxy = await startProxy();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await proxy?.dispose();
});

/** SCREENSHOTS=1 rewrites the README's pictures; a normal run only checks one was taken. */
async function screenshot(page: Page, file: string, fullPage = false): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0)); // a full-page picture with the sticky bar where it belongs
  const shot = await page.screenshot({ fullPage });
  expect(shot.length).toBeGreaterThan(10_000);
  if (process.env.SCREENSHOTS === "1") {
    await mkdir("docs", { recursive: true });
    await writeFile(`docs/${file}`, shot);
  }
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${proxy.base}/admin`);
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect.poll(() => page.locator("#app").isVisible()).toBe(true);
}

/** Fills the open form dialog's fields (by their names) and submits it with `submit`. */
async function fillForm(page: Page, values: Record<string, string>, submit: string): Promise<void> {
  const form = page.locator("dialog.form-dialog[open]");
  for (const [name, value] of Object.entries(values)) {
    const field = form.locator(`[name="${name}"]`);
    if ((await field.evaluate((n) => n.tagName)) === "SELECT") await field.selectOption(value);
    else await field.fill(value);
  }
  await form.getByRole("button", { name: submit }).click();
}

/** Reads the secret the shown-once dialog holds, copies it with its button, and closes it. */
async function takeSecret(page: Page): Promise<string> {
  const dialog = page.locator("dialog.secret-dialog[open]");
  await dialog.waitFor({ timeout: 5_000 }).catch(async (err) => {
    throw new Error(`no secret shown; the form says: ${await page.locator("dialog.form-dialog .error").allTextContents()} (${err})`);
  });
  const secret = ((await dialog.locator(".secret").textContent()) ?? "").trim();
  await dialog.getByRole("button", { name: "Copy" }).click();
  await expect.poll(() => dialog.getByRole("button", { name: "Copied" }).count()).toBe(1);
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await dialog.getByRole("button", { name: "Done" }).click();
  return secret;
}

/** A text-to-video create with a key, over real HTTP. */
async function create(key: string): Promise<number> {
  const res = await fetch(`${proxy.base}/api/v1/hailuo/text_to_video`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ model: "hailuo-02-text-to-video-standard", prompt: "a console test", duration_seconds: 6 }),
  });
  await res.body?.cancel();
  return res.status;
}

const keyRow = (page: Page, prefix: string) => page.locator("#keys tr", { hasText: prefix.slice(0, 10) });

test("an admin creates a tenant and a key, uses it, rotates it, revokes it, credits and debits, and sees it all in the audit log", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: proxy.base });
  const page = await context.newPage();
  await signIn(page, proxy.adminToken);
  expect(await page.locator("#who").textContent()).toContain("admin");

  await page.getByRole("button", { name: "New tenant" }).click();
  await fillForm(page, { id: tenantId, name: "Studio Nine", limit: "5", period: "day", concurrent: "4" }, "Create tenant");
  const whsec = await takeSecret(page); // the webhook signing secret, shown once
  expect(whsec).toMatch(/^whsec_/);
  const row = page.locator(`#tenants tr[data-tenant="${tenantId}"]`);
  await expect.poll(() => row.textContent()).toContain("$0.00 of $5.00 / day");
  await row.click();

  await page.locator("#keys").getByRole("button", { name: "New key" }).click();
  await fillForm(page, { name: "backend" }, "Create key");
  const first = await takeSecret(page);
  expect(first).toMatch(/^sk_[A-Za-z0-9_-]{32}$/);
  expect(await create(first)).toBe(200);

  await expect.poll(() => keyRow(page, first).count()).toBe(1);
  await keyRow(page, first).getByRole("button", { name: "Rotate" }).click();
  await fillForm(page, { overlap: "3", unit: "1" }, "Rotate");
  const rotatedAt = Date.now();
  const second = await takeSecret(page);
  expect(second).not.toBe(first);
  // During the overlap both keys work; after it only the new one.
  expect(await create(second)).toBe(200);
  expect(await create(first)).toBe(200);
  await expect.poll(() => keyRow(page, first).textContent()).toContain("rotated, works until");
  await new Promise((r) => setTimeout(r, Math.max(0, rotatedAt + 3_300 - Date.now())));
  expect(await create(first)).toBe(401);
  expect(await create(second)).toBe(200);

  await expect.poll(() => keyRow(page, second).count()).toBe(1);
  await keyRow(page, second).getByRole("button", { name: "Revoke" }).click();
  const confirm = page.locator("dialog.confirm[open]");
  expect(await confirm.textContent()).toContain("cannot be undone");
  await confirm.getByRole("button", { name: "Revoke key" }).click();
  await expect.poll(() => keyRow(page, second).textContent()).toContain("revoked");
  expect(await create(second)).toBe(401);

  await page.getByRole("button", { name: "Credit or debit" }).click();
  await fillForm(page, { kind: "credit", amount: "1", reason: "goodwill" }, "Apply");
  await expect.poll(() => page.locator("#status").textContent()).toContain("Credited $1.00");
  await page.getByRole("button", { name: "Credit or debit" }).click();
  await fillForm(page, { kind: "debit", amount: "0.5", reason: "late fee" }, "Apply");
  await page.locator("dialog.confirm[open]").getByRole("button", { name: "Debit" }).click();
  await expect.poll(() => page.locator("#status").textContent()).toContain("Debited $0.50");

  // The tenant's page: its keys (live, rotated, revoked) and what each used.
  await page.locator(`#tenants tr[data-tenant="${tenantId}"]`).click();
  await expect.poll(() => page.locator("#keys tbody tr").count()).toBe(2);
  await screenshot(page, "console-tenant.png", true);

  await page.getByRole("tab", { name: "Audit log" }).click();
  const audit = page.locator("#audit-rows");
  await expect.poll(() => audit.locator("tbody tr").count()).toBe(6);
  const actions = await audit
    .locator("tbody tr")
    .evaluateAll((rows, id) => rows.filter((r) => r.textContent!.includes(id)).map((r) => r.getAttribute("data-action")), tenantId);
  expect(actions).toEqual(["tenant.debit", "tenant.credit", "key.revoke", "key.rotate", "key.create", "tenant.create"]);
  const auditText = (await audit.textContent()) ?? "";
  expect(auditText).toContain("ADMIN_TOKEN"); // who: the bootstrap admin
  for (const secret of [first, second, whsec]) expect(auditText).not.toContain(secret);
  await audit.locator('tr[data-action="key.revoke"] summary').click(); // before → after, in full
  expect(await audit.locator('tr[data-action="key.revoke"] pre').textContent()).toContain('"revoked_at": null');
  await screenshot(page, "console-audit.png");

  await page.getByRole("tab", { name: "Operators" }).click();
  await page.getByRole("button", { name: "New operator token" }).click();
  await fillForm(page, { name: "Dana (support)", role: "viewer" }, "Create token");
  viewerToken = await takeSecret(page);
  expect(viewerToken).toMatch(/^opt_/);
  await expect.poll(() => page.locator("#operator-rows").textContent()).toContain("Dana (support)");
  await context.close();
});

test("a viewer token sees everything and changes nothing: every control is off, and every write is a 403", async () => {
  expect(viewerToken).not.toBe("");
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await signIn(page, viewerToken);
  expect(await page.locator("#who").textContent()).toContain("viewer");
  const row = page.locator(`#tenants tr[data-tenant="${tenantId}"]`);
  await expect.poll(() => row.count()).toBe(1);
  expect(await page.getByRole("button", { name: "New tenant" }).isDisabled()).toBe(true);
  await row.click();
  await expect.poll(() => page.locator("#keys tbody tr").count()).toBe(2);
  for (const name of ["Edit", "Credit or debit", "Disable", "New key"])
    expect(await page.getByRole("button", { name, exact: true }).isDisabled(), name).toBe(true);
  await page.getByRole("tab", { name: "Audit log" }).click();
  await expect.poll(() => page.locator("#audit-rows tbody tr").count()).toBeGreaterThanOrEqual(7);
  await page.getByRole("tab", { name: "Operators" }).click();
  await expect.poll(() => page.locator("#operator-rows").textContent()).toContain("Dana (support)");
  expect(await page.getByRole("button", { name: "New operator token" }).isDisabled()).toBe(true);

  // Were the controls enabled, the API would still refuse: the same calls the console makes, with this tab's token.
  const statuses = await page.evaluate(async (id) => {
    const token = sessionStorage.getItem("runapi-proxy-admin-token")!;
    const call = (method: string, path: string, body: unknown) =>
      fetch(path, { method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify(body) }).then(
        (r) => r.status,
      );
    return Promise.all([
      call("POST", "/admin/v1/tenants", { name: "x", budget: { limit_usd: 1, period: "day" } }),
      call("PATCH", `/admin/v1/tenants/${id}`, { status: "disabled" }),
      call("DELETE", `/admin/v1/tenants/${id}`, {}),
      call("POST", `/admin/v1/tenants/${id}/keys`, { kind: "secret" }),
      call("POST", `/admin/v1/tenants/${id}/adjustments`, { amount_usd: 5, reason: "x" }),
      call("POST", "/admin/v1/operators", { name: "x", role: "admin" }),
    ]);
  }, tenantId);
  expect(statuses).toEqual([403, 403, 403, 403, 403, 403]);
  const tenant = await proxy.admin("GET", `/admin/v1/tenants/${tenantId}`);
  expect(tenant.json.tenant.status).toBe("active");
  await page.close();
});

test("prices: a billing operator syncs RunAPI's schedule, sets the markup and sees the margins; a viewer cannot change them", async () => {
  const made = await proxy.admin("POST", "/admin/v1/operators", { name: "Bill (finance)", role: "billing" });
  expect(made.status).toBe(201);
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await signIn(page, made.json.token);
  await page.getByRole("tab", { name: "Prices" }).click();
  await expect.poll(() => page.locator("#price-summary").textContent()).toMatch(/\d+ prices from/);
  await page.getByRole("button", { name: "Sync now" }).click();
  await expect.poll(() => page.locator("#status").textContent()).toMatch(/Synced|has not changed/);
  await expect.poll(() => page.locator("#price-summary").textContent()).toContain("RunAPI's live schedule");
  await page.getByRole("button", { name: "Edit markup" }).click();
  await fillForm(page, { percent: "15", overrides: "kling 30\nhailuo/text_to_video 0" }, "Save markup");
  await expect.poll(() => page.locator("#price-summary").textContent()).toContain("15 %");
  expect((await proxy.admin("GET", "/admin/v1/prices")).json.markup).toEqual({
    markup_percent: 15,
    overrides: [
      { service: "kling", markup_percent: 30 },
      { service: "hailuo", action: "text_to_video", markup_percent: 0 },
    ],
  });
  await expect.poll(() => page.locator("#margin-rows").textContent()).toContain("Totals");
  await screenshot(page, "console-prices.png");
  await page.getByRole("tab", { name: "Audit log" }).click();
  await expect.poll(() => page.locator('#audit-rows tr[data-action="prices.markup"]').count()).toBe(1);
  expect(await page.locator('#audit-rows tr[data-action="prices.markup"]').textContent()).toContain("billing");
  await page.close();

  const viewer = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await signIn(viewer, viewerToken);
  await viewer.getByRole("tab", { name: "Prices" }).click();
  await expect.poll(() => viewer.locator("#price-summary").textContent()).toContain("15 %");
  for (const name of ["Sync now", "Edit markup"]) expect(await viewer.getByRole("button", { name }).isDisabled(), name).toBe(true);
  await viewer.close();
  await proxy.admin("PUT", "/admin/v1/prices", { markup_percent: 0 });
});
