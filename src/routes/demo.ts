import { Hono } from "hono";
import type { AppEnv } from "../env";
import { HAILUO_MODELS, isOffered } from "../catalog/hailuo";
import { demoPage, type DemoModel, type DemoPageOptions } from "../pages/demo-page";

const PUBLISHABLE_KEY = /^pk_[A-Za-z0-9_-]{20,200}$/;
const TURNSTILE_ORIGIN = "https://challenges.cloudflare.com";

/** "hailuo-02-text-to-video-standard" → "Hailuo 02 · text to video · standard". */
function modelLabel(id: string): string {
  const m = id.match(/^hailuo-([\d.]+)-(text|image)-to-video-(\w+)$/);
  return m ? `Hailuo ${m[1]} · ${m[2]} to video · ${m[3]}` : id;
}

/** The models and the choices each one accepts, from the same table that validates requests. */
export function demoModels(): DemoModel[] {
  return Object.entries(HAILUO_MODELS).map(([id, r]) => {
    return {
      id,
      label: modelLabel(id),
      endpoint: r.textToVideo ? "text_to_video" : "image_to_video",
      durations: [...r.durations],
      defaultDuration: r.defaultDuration,
      resolutions: r.resolutions.filter((res) => r.durations.some((d) => isOffered(r, d, res))),
      defaultResolution: r.defaultResolution,
      acceptsResolution: !r.textToVideo,
      maxPromptChars: r.maxPromptChars,
    };
  });
}

/**
 * `GET /demo` (SPEC §9): a small public page that makes a video with a publishable key, from `?key=`
 * or `DEMO_PUBLISHABLE_KEY`. Only a `pk_` key is ever written into the page; anything else is refused
 * without being echoed. The page is rendered per request with a CSP nonce, and never cached.
 */
export const demo = new Hono<AppEnv>().get("/", (c) => {
  const { config } = c.var;
  const fromUrl = c.req.query("key") || undefined;
  const key = fromUrl ?? config.demoPublishableKey;
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const turnstile = key && PUBLISHABLE_KEY.test(key) && config.turnstileSecretKey && config.turnstileSiteKey ? config.turnstileSiteKey : undefined;

  let options: DemoPageOptions;
  let status: 200 | 400 | 404 = 200;
  if (key === undefined) {
    status = 404;
    options = { nonce, notice: "This demo has no key yet. The operator sets DEMO_PUBLISHABLE_KEY, or opens /demo?key=pk_… with a publishable key." };
  } else if (!PUBLISHABLE_KEY.test(key)) {
    status = 400;
    options = { nonce, notice: "This page only takes a publishable key (pk_…). Never put a secret key in a web page or a URL." };
  } else {
    options = { nonce, config: { key, models: demoModels(), turnstileSiteKey: turnstile ?? null } };
  }

  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'${turnstile ? ` ${TURNSTILE_ORIGIN}` : ""}`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    // Videos play from wherever the task says (RunAPI's CDN, or the proxy's own archive).
    "media-src 'self' https: http:",
    "img-src 'self' data:",
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
