import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { timingSafeEqual } from "../lib/crypto";
import { AppError } from "../lib/errors";
import { findKey, getTenant } from "../lib/tenant-store";

const END_USER_HEADER = "x-end-user-id";
const MAX_END_USER_LENGTH = 128;

/** The API key a request carries: `Authorization: Bearer <key>` or `x-api-key`. */
function presentedKey(authorization: string | undefined, apiKey: string | undefined): string | null {
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  return bearer ?? apiKey?.trim() ?? null;
}

/**
 * Tenant authentication: finds the key by its SHA-256 hash in KV and loads its tenant.
 * Unknown, revoked or expired key → 401; disabled tenant or origin not allowed for a publishable key → 403.
 */
export const tenantAuth = createMiddleware<AppEnv>(async function tenantAuth(c, next) {
  const plaintext = presentedKey(c.req.header("authorization"), c.req.header("x-api-key"));
  if (!plaintext) throw new AppError("unauthorized", "Missing API key: send Authorization: Bearer <key> or x-api-key");
  if (!/^(sk|pk)_[A-Za-z0-9_-]{20,200}$/.test(plaintext)) throw new AppError("unauthorized", "Invalid API key");
  const key = await findKey(c.env.TENANTS, plaintext);
  if (!key) throw new AppError("unauthorized", "Invalid API key");
  if (key.revoked_at) throw new AppError("unauthorized", "This API key has been revoked");
  if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) throw new AppError("unauthorized", "This API key has expired");
  const tenant = await getTenant(c.env.TENANTS, key.tenant_id);
  if (!tenant) throw new AppError("unauthorized", "Invalid API key");
  if (tenant.status !== "active") throw new AppError("forbidden", "This tenant is disabled");

  let endUser: string | null = null;
  if (key.kind === "publishable") {
    const origin = c.req.header("origin");
    if (key.allowed_origins && (!origin || !key.allowed_origins.includes(origin))) {
      throw new AppError("forbidden", "This publishable key is not allowed from this origin");
    }
    endUser = c.req.header("cf-connecting-ip") ?? "unknown-ip";
  } else {
    const claimed = c.req.header(END_USER_HEADER)?.trim();
    if (claimed) {
      if (claimed.length > MAX_END_USER_LENGTH) throw new AppError("invalid_request", `${END_USER_HEADER} is longer than ${MAX_END_USER_LENGTH} characters`);
      endUser = claimed;
    }
  }
  c.set("auth", { tenant, key, endUser });
  await next();
});

/** Operator authentication: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
export const adminAuth = createMiddleware<AppEnv>(async function adminAuth(c, next) {
  const token = c.req.header("authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!token || !timingSafeEqual(token, c.var.config.adminToken)) {
    throw new AppError("unauthorized", "Missing or invalid admin token");
  }
  await next();
});
