import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import type { Bindings } from "../src/env";
import { HAILUO_MODELS } from "../src/catalog/hailuo";
import { ADMIN_TOKEN, newKey, proxy, tenantWithKey, UPSTREAM_KEY } from "./helpers";

const SIGNING_SECRET = "signing-secret-for-tests-7c1d";

async function page(path: string, vars: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`https://proxy.test${path}`), { ...env, ...vars } as Bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** The JSON config the page's script reads. */
function pageConfig(html: string): { key: string; models: { id: string; durations: number[]; resolutions: string[] }[]; turnstileSiteKey: string | null } {
  const m = html.match(/<script type="application\/json" id="demo-config">([^<]*)<\/script>/);
  if (!m) throw new Error("no demo config in the page");
  return JSON.parse(m[1]!);
}

async function publishableKey() {
  const { tenantId, key } = await tenantWithKey();
  const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://proxy.test"] });
  return { secret: key, pk: pk.key };
}

describe("GET /demo", () => {
  it("serves a small accessible page for ?key=pk_…, with every model and its valid choices", async () => {
    const { pk } = await publishableKey();
    const res = await proxy(`/demo?key=${pk}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("connect-src 'self'");
    const html = await res.text();
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('<label for="prompt">Prompt</label>');
    expect(html).toMatch(/<button id="generate" type="submit">Generate<\/button>/);
    expect(html).toMatch(/role="status" aria-live="polite"/);
    expect(html).toContain("<video");
    expect(html.length).toBeLessThan(30_000);
    const config = pageConfig(html);
    expect(config.key).toBe(pk);
    expect(config.turnstileSiteKey).toBeNull();
    expect(config.models.map((m) => m.id)).toEqual(Object.keys(HAILUO_MODELS));
    expect(config.models.find((m) => m.id === "hailuo-02-text-to-video-pro")).toMatchObject({ durations: [6], resolutions: ["1080p"] });
    expect(config.models.find((m) => m.id === "hailuo-2.3-image-to-video-standard")).toMatchObject({ durations: [6, 10], resolutions: ["768p", "1080p"] });
    expect(html).not.toContain("challenges.cloudflare.com");
  });

  it("never carries a secret: not the upstream key, the admin token, the signing secret, the Turnstile secret or a tenant's secret key", async () => {
    const { secret, pk } = await publishableKey();
    const vars = { TURNSTILE_SECRET_KEY: "turnstile-secret-must-not-leak", TURNSTILE_SITE_KEY: "site-key-public" };
    const html = await (await page(`/demo?key=${pk}`, vars)).text();
    for (const s of [UPSTREAM_KEY, ADMIN_TOKEN, SIGNING_SECRET, vars.TURNSTILE_SECRET_KEY, secret]) expect(html).not.toContain(s);
  });

  it("refuses anything but a publishable key in ?key=, without echoing it", async () => {
    const { secret } = await publishableKey();
    for (const key of [secret, "<script>alert(1)</script>", "pk_short"]) {
      const res = await proxy(`/demo?key=${encodeURIComponent(key)}`);
      expect(res.status).toBe(400);
      const html = await res.text();
      expect(html).not.toContain(key);
      expect(html).toContain("only takes a publishable key");
    }
  });

  it("uses DEMO_PUBLISHABLE_KEY when the URL names none, and says so when there is neither", async () => {
    const { pk } = await publishableKey();
    expect(pageConfig(await (await page("/demo", { DEMO_PUBLISHABLE_KEY: pk })).text()).key).toBe(pk);
    const none = await proxy("/demo");
    expect(none.status).toBe(404);
    expect(await none.text()).toContain("DEMO_PUBLISHABLE_KEY");
  });

  it("renders the Turnstile widget when Turnstile is on, and lets its script and frame through the CSP", async () => {
    const { pk } = await publishableKey();
    const res = await page(`/demo?key=${pk}`, { TURNSTILE_SECRET_KEY: "turnstile-secret-x", TURNSTILE_SITE_KEY: "0x4AAAAAAAtestsite" });
    const html = await res.text();
    expect(html).toContain('data-sitekey="0x4AAAAAAAtestsite"');
    expect(html).toMatch(/<script nonce="[^"]+" src="https:\/\/challenges\.cloudflare\.com\/turnstile\/v0\/api\.js" async defer><\/script>/);
    expect(pageConfig(html).turnstileSiteKey).toBe("0x4AAAAAAAtestsite");
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toMatch(/script-src 'nonce-[^']+' https:\/\/challenges\.cloudflare\.com/);
    expect(csp).toContain("frame-src https://challenges.cloudflare.com");
  });
});
