import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import type { Bindings } from "../src/env";
import { HAILUO_MODELS } from "../src/catalog/hailuo";
import type { DemoConfig, DemoModel } from "../src/pages/demo-page";
import { ADMIN_TOKEN, admin, newKey, proxy, tenantWithKey, UPSTREAM_KEY } from "./helpers";

const SIGNING_SECRET = "signing-secret-for-tests-7c1d";

async function page(path: string, vars: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`https://proxy.test${path}`), { ...env, ...vars } as Bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** The JSON config the page's script reads. */
function pageConfig(html: string): DemoConfig {
  const m = html.match(/<script type="application\/json" id="demo-config">([^<]*)<\/script>/);
  if (!m) throw new Error("no demo config in the page");
  return JSON.parse(m[1]!);
}

async function publishableKey(key: Record<string, unknown> = {}, tenant: Record<string, unknown> = {}) {
  const { tenantId, key: secret } = await tenantWithKey(tenant);
  const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://proxy.test"], ...key });
  return { tenantId, secret, pk: pk.key, pkId: pk.id };
}

async function offered(key: Record<string, unknown>, tenant: Record<string, unknown> = {}): Promise<{ html: string; models: DemoModel[] }> {
  const { pk } = await publishableKey(key, tenant);
  const res = await proxy(`/demo?key=${pk}`);
  expect(res.status).toBe(200);
  const html = await res.text();
  return { html, models: pageConfig(html).models };
}

const byId = (models: DemoModel[], id: string) => {
  const m = models.find((x) => x.id === id);
  if (!m) throw new Error(`${id} is not offered: ${models.map((x) => x.id).join(", ")}`);
  return m;
};
const field = (m: DemoModel, name: string) => m.fields.find((f) => f.name === name);

describe("GET /demo", () => {
  it("serves a small accessible page; a publishable key without allowed_models offers the Hailuo models with their valid choices", async () => {
    const { pk } = await publishableKey();
    const res = await proxy(`/demo?key=${pk}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("img-src 'self' data: https: http:");
    const html = await res.text();
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('<label for="model">Model</label>');
    expect(html).toContain('<label for="prompt">Prompt</label>');
    expect(html).toMatch(/<button id="generate" type="submit">Generate<\/button>/);
    expect(html).toMatch(/role="status" aria-live="polite"/);
    expect(html).toContain("<h1>Make a short video</h1>");
    expect(html.length).toBeLessThan(40_000);
    const config = pageConfig(html);
    expect(config.key).toBe(pk);
    expect(config.turnstileSiteKey).toBeNull();
    expect(config.models.map((m) => m.model).sort()).toEqual(Object.keys(HAILUO_MODELS).sort());
    expect(html).toContain('<optgroup label="Hailuo">');
    // A fixed length is offered as its only value; text-to-video takes no resolution.
    const pro = byId(config.models, "hailuo/text_to_video/hailuo-02-text-to-video-pro");
    expect(pro).toMatchObject({
      kind: "video",
      path: "/api/v1/hailuo/text_to_video",
      model: "hailuo-02-text-to-video-pro",
      prompt: { required: true, max: 1500 },
    });
    expect(pro.fields).toEqual([{ name: "duration_seconds", kind: "select", label: "Length", options: [6], default: 6, required: true }]);
    // The overlay's defaults and its rule: 1080p only with 6-second clips.
    const std = byId(config.models, "hailuo/image_to_video/hailuo-2.3-image-to-video-standard");
    expect(field(std, "duration_seconds")).toMatchObject({ options: [6, 10], default: 10 });
    expect(field(std, "output_resolution")).toMatchObject({ options: ["768p", "1080p"], default: "768p" });
    expect(field(std, "first_frame_image_url")).toEqual({ name: "first_frame_image_url", kind: "url", label: "First frame image URL", required: true });
    expect(field(std, "last_frame_image_url")).toBeUndefined(); // 2.3 takes no last frame
    expect(std.rules).toEqual([{ when: { duration_seconds: 10 }, only: { output_resolution: ["768p"] } }]);
    expect(html).not.toContain("challenges.cloudflare.com");
  });

  it("offers exactly the video and image models a key's allowed_models name, each with choices from the catalog", async () => {
    const allowed = ["flux", "seedream-5-pro-text-to-image", "topaz/upscale_image", "veo-3-1", "suno", "grok-imagine/extend_video"];
    const { html, models } = await offered({ allowed_models: allowed });
    expect(models.map((m) => m.id)).toEqual([
      // Lines in order; text-to-something first within a line.
      "flux/text_to_image/flux-2-klein",
      "flux/text_to_image/flux-dev",
      "flux/text_to_image/flux-pro",
      "flux/remix_image/flux-dev",
      "flux/remix_image/flux-pro",
      "seedream/text_to_image/seedream-5-pro-text-to-image",
      "topaz/upscale_image/topaz-upscale-image",
      "veo-3-1/text_to_video/veo-3.1",
      "veo-3-1/text_to_video/veo-3.1-fast",
      "veo-3-1/text_to_video/veo-3.1-lite",
    ]); // no Suno (audio), no task follow-ups (extend, upscale of an earlier task)
    expect(html).toContain("<h1>Make a video or an image</h1>");
    expect(html).toContain('<optgroup label="Veo 3.1"><option value="veo-3-1/text_to_video/veo-3.1">Veo 3.1 · text to video</option>');

    // An enum is a select: required ones have no "Default" entry; the contract's default is preselected.
    const seedream = byId(models, "seedream/text_to_image/seedream-5-pro-text-to-image");
    expect(seedream).toMatchObject({ kind: "image", path: "/api/v1/seedream/text_to_image", prompt: { required: true, min: 3, max: 5000 } });
    expect(field(seedream, "aspect_ratio")).toEqual({
      name: "aspect_ratio",
      kind: "select",
      label: "Aspect ratio",
      options: ["1:1", "4:3", "3:4", "16:9", "9:16", "2:3", "3:2", "21:9"],
      required: true,
    });
    expect(field(seedream, "output_format")).toMatchObject({ options: ["png", "jpeg"], default: "png", required: true });
    expect(field(seedream, "enable_safety_checker")).toBeUndefined(); // a switch the price does not depend on stays at its default
    // A fixed value: one option.
    expect(field(byId(models, "flux/text_to_image/flux-dev"), "output_count")).toMatchObject({ options: [1], default: 1, required: true });
    // A required image URL becomes a URL input; a list of them, one URL sent as a list.
    expect(field(byId(models, "flux/remix_image/flux-pro"), "source_image_url")).toEqual({
      name: "source_image_url",
      kind: "url",
      label: "Source image URL",
      required: true,
    });
    const topaz = byId(models, "topaz/upscale_image/topaz-upscale-image");
    expect(topaz.prompt).toBeNull();
    expect(topaz.fields.map((f) => [f.name, f.kind])).toEqual([
      ["source_image_url", "url"],
      ["upscale_factor", "select"],
    ]);
    // Optional enums without a default keep a "Default" entry; free text (watermark) and seeds are left out.
    const veo = byId(models, "veo-3-1/text_to_video/veo-3.1");
    expect(veo.fields.map((f) => [f.name, f.required ?? false])).toEqual([
      ["input_mode", false],
      ["aspect_ratio", false],
      ["duration_seconds", false],
    ]);
    // A contract rule that forbids a value under a condition rules that value out while the condition holds.
    expect(byId(models, "veo-3-1/text_to_video/veo-3.1-lite").rules).toEqual([
      { when: { input_mode: "reference" }, not: { duration_seconds: [4] } },
      { when: { input_mode: "reference" }, not: { duration_seconds: [6] } },
    ]);
    // Only what the page offers is in it: no other model of the catalog.
    expect(html).not.toContain("kling");
    expect(html.length).toBeLessThan(40_000);
  });

  it("applies the contract's rules that hold whatever the visitor picks, and a switch the price depends on", async () => {
    const { models } = await offered({ allowed_models: ["runway/text_to_video", "minimax-h3", "kling-v2.6"] });
    // Runway: no first frame is ever sent, so its aspect ratio is required.
    expect(field(byId(models, "runway/text_to_video/runway"), "aspect_ratio")).toMatchObject({ required: true });
    // MiniMax H3 image-to-video needs one of its frames: the form asks for the first.
    expect(field(byId(models, "minimax-h3/image_to_video/minimax-h3"), "first_frame_image_url")).toMatchObject({ kind: "url", required: true });
    // Its text-to-video without references needs an aspect ratio, and not "adaptive".
    expect(field(byId(models, "minimax-h3/text_to_video/minimax-h3"), "aspect_ratio")).toMatchObject({
      required: true,
      options: ["21:9", "16:9", "4:3", "1:1", "3:4", "9:16"],
    });
    // Kling v2.6's price depends on its sound switch.
    expect(field(byId(models, "kling/text_to_video/kling-v2.6"), "enable_sound")).toEqual({
      name: "enable_sound",
      kind: "check",
      label: "With sound",
      default: false,
      required: true,
    });
  });

  it("offers only what the tenant's allowed_models allow too", async () => {
    const { models } = await offered({ allowed_models: ["flux/text_to_image", "hailuo"] }, { allowed_models: ["flux", "seedream"] });
    expect(models.map((m) => m.id)).toEqual(["flux/text_to_image/flux-2-klein", "flux/text_to_image/flux-dev", "flux/text_to_image/flux-pro"]);
    expect((await offered({}, { allowed_models: ["hailuo-02-text-to-video-pro", "flux"] })).models.map((m) => m.id)).toEqual([
      "hailuo/text_to_video/hailuo-02-text-to-video-pro",
    ]);
  });

  it("says so when the key offers no video or image model, or does not work", async () => {
    const audioOnly = await publishableKey({ allowed_models: ["suno"] });
    const none = await proxy(`/demo?key=${audioOnly.pk}`);
    expect(none.status).toBe(404);
    expect(await none.text()).toContain("no video or image model enabled");

    const { tenantId, pk, pkId } = await publishableKey();
    expect((await admin(`/admin/v1/tenants/${tenantId}/keys/${pkId}`, { method: "DELETE" })).status).toBe(200);
    const revoked = await proxy(`/demo?key=${pk}`);
    expect(revoked.status).toBe(404);
    const html = await revoked.text();
    expect(html).toContain("does not work any more");
    expect(html).not.toContain(pk);
    expect((await proxy(`/demo?key=pk_${"x".repeat(32)}`)).status).toBe(404);
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
