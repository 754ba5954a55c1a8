import { Hono } from "hono";
import type { AppEnv } from "../env";
import { allActions, type CatalogAction } from "../catalog/catalog";
import { choicesFor } from "../catalog/choices";
import { priceFields, type ScheduleIndex } from "../domain/price-schedule";
import { modelAllowed, type KeyRecord, type TenantRecord } from "../domain/tenant";
import { activeSchedule } from "../lib/price-store";
import { findKey, getTenant } from "../lib/tenant-store";
import { demoPage, type DemoModel, type DemoPageOptions } from "../pages/demo-page";

const PUBLISHABLE_KEY = /^pk_[A-Za-z0-9_-]{20,200}$/;
const TURNSTILE_ORIGIN = "https://challenges.cloudflare.com";

/** What `/demo` offers with a publishable key that has no `allowed_models` of its own: the Hailuo models, as before keys had them. */
export const DEMO_DEFAULT_MODELS: readonly string[] = ["hailuo"];

/** "hailuo-2.3-image-to-video-pro" → "Hailuo 2.3 image to video pro"; the action is added when the name does not say it ("Kling v2.6 · text to video"). */
function modelLabel(action: CatalogAction, model: string): string {
  const name = model.replaceAll("-", " ");
  const what = action.action.replaceAll("_", " ");
  const label = name.charAt(0).toUpperCase() + name.slice(1);
  return name.includes(what) ? label : `${label} · ${what}`;
}

/** Text-to-something first within a line: it needs nothing but a prompt. */
const actionRank = (a: CatalogAction) => (a.action.startsWith("text_to_") ? 0 : 1);

/**
 * The video and image models a publishable key may use (its `allowed_models`, else {@link DEMO_DEFAULT_MODELS},
 * within the tenant's), each with the choices a form can offer for it, grouped by model line.
 */
export function demoModels(key: Pick<KeyRecord, "allowed_models">, tenant: Pick<TenantRecord, "allowed_models">, schedule: ScheduleIndex): DemoModel[] {
  const allowed = key.allowed_models ?? DEMO_DEFAULT_MODELS;
  const offered: (DemoModel & { rank: number })[] = [];
  for (const action of allActions()) {
    if (action.modality !== "video" && action.modality !== "image") continue;
    for (const model of action.models) {
      const target = { service: action.service, action: action.action, model };
      if (!modelAllowed(allowed, target) || !modelAllowed(tenant.allowed_models, target)) continue;
      const choices = choicesFor(action, model, new Set(priceFields(schedule.entry(action.service, action.action, model))));
      if (!choices) continue;
      offered.push({
        id: `${action.service}/${action.action}/${model}`,
        label: modelLabel(action, model),
        line: action.line,
        kind: action.modality,
        service: action.service,
        action: action.action,
        path: action.path,
        model: action.takesModel ? model : null,
        ...choices,
        rank: actionRank(action),
      });
    }
  }
  // Lines in alphabetical order; within a line, text-to-something first, then the catalog's order (a stable sort).
  offered.sort((a, b) => a.line.localeCompare(b.line) || a.rank - b.rank);
  return offered.map(({ rank: _, ...m }) => m);
}

/** The key a page may use, or why not: unknown, revoked, expired, or its tenant gone or disabled. */
async function usableKey(kv: KVNamespace, plaintext: string): Promise<{ key: KeyRecord; tenant: TenantRecord } | null> {
  const key = await findKey(kv, plaintext);
  if (!key || key.revoked_at || (key.expires_at && Date.parse(key.expires_at) <= Date.now())) return null;
  const tenant = await getTenant(kv, key.tenant_id);
  return tenant && tenant.status === "active" ? { key, tenant } : null;
}

/**
 * `GET /demo` (SPEC §9, §12): a small public page that makes a video or an image with a publishable key, from
 * `?key=` or `DEMO_PUBLISHABLE_KEY`, offering the models that key may use. Only a `pk_` key is ever written into
 * the page; anything else is refused without being echoed. The page is rendered per request with a CSP nonce,
 * and never cached.
 */
export const demo = new Hono<AppEnv>().get("/", async (c) => {
  const { config } = c.var;
  const fromUrl = c.req.query("key") || undefined;
  const key = fromUrl ?? config.demoPublishableKey;
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const turnstile = key && PUBLISHABLE_KEY.test(key) && config.turnstileSecretKey && config.turnstileSiteKey ? config.turnstileSiteKey : undefined;

  let options: DemoPageOptions;
  let status: 200 | 400 | 404 = 200;
  const usable = key !== undefined && PUBLISHABLE_KEY.test(key) ? await usableKey(c.env.TENANTS, key) : null;
  const models = usable ? demoModels(usable.key, usable.tenant, (await activeSchedule(c.env.TENANTS)).index) : [];
  if (key === undefined) {
    status = 404;
    options = { nonce, notice: "This demo has no key yet. The operator sets DEMO_PUBLISHABLE_KEY, or opens /demo?key=pk_… with a publishable key." };
  } else if (!PUBLISHABLE_KEY.test(key)) {
    status = 400;
    options = { nonce, notice: "This page only takes a publishable key (pk_…). Never put a secret key in a web page or a URL." };
  } else if (!usable) {
    status = 404;
    options = { nonce, notice: "This demo's key does not work any more (unknown, revoked or expired). Please tell the site's owner." };
  } else if (models.length === 0) {
    status = 404;
    options = { nonce, notice: "This demo's key has no video or image model enabled. The operator lists them in the key's allowed_models." };
  } else {
    options = { nonce, config: { key, models, turnstileSiteKey: turnstile ?? null } };
  }

  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'${turnstile ? ` ${TURNSTILE_ORIGIN}` : ""}`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    // Outputs load from wherever the task says (RunAPI's CDN, or the proxy's own archive).
    "media-src 'self' https: http:",
    "img-src 'self' data: https: http:",
    `frame-src ${turnstile ? TURNSTILE_ORIGIN : "'none'"}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return c.html(demoPage(options), status, {
    "Content-Security-Policy": csp,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    // Same-origin requests keep their full Referer: the page's own EventSource proves its origin with it.
    "Referrer-Policy": "strict-origin-when-cross-origin",
  });
});
