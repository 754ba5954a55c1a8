import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { END_USER_TOKEN_PREFIX } from "../domain/end-user-token";
import { endUserOfIp } from "../domain/client-ip";
import { AppError } from "../lib/errors";
import { presentedCredential } from "./auth";

/** The window of the `BROWSER_RATE_LIMITER` binding (wrangler.toml `[[ratelimits]]`, `simple.period`). */
export const SHIELD_PERIOD_SECONDS = 10;

/**
 * A coarse per-visitor flood shield in front of browser credentials (publishable keys, end-user tokens):
 * Cloudflare's Workers Rate Limiting binding counts every API request per client IP (IPv6 per /64) before it
 * costs a KV read or reaches the tenant's Durable Object. It is fast and local to each Cloudflare location,
 * hence approximate; the exact per-visitor limit on billable requests (`end_user_requests_per_minute`) is
 * held by the tenant's ledger. Secret keys (a tenant's own servers) and requests with no `CF-Connecting-IP`
 * (never the case behind Cloudflare) pass untouched.
 */
export const browserShield = createMiddleware<AppEnv>(async function browserShield(c, next) {
  const limiter = c.env.BROWSER_RATE_LIMITER;
  const ip = c.req.header("cf-connecting-ip");
  const credential = c.req.method === "OPTIONS" ? null : presentedCredential(c.req);
  if (limiter && ip && credential && (credential.startsWith("pk_") || credential.startsWith(END_USER_TOKEN_PREFIX))) {
    const { success } = await limiter.limit({ key: endUserOfIp(ip) });
    if (!success) {
      throw new AppError(
        "rate_limited",
        `Too many requests from your network; retry after ${SHIELD_PERIOD_SECONDS} s`,
        { limit: "browser_flood_shield", retry_after_seconds: SHIELD_PERIOD_SECONDS },
        { "Retry-After": String(SHIELD_PERIOD_SECONDS) },
      );
    }
  }
  await next();
});
