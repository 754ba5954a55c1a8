import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { sha256Hex, timingSafeEqual } from "../lib/crypto";
import { AppError } from "../lib/errors";
import { operatorLog } from "../lib/stubs";
import { findKey, getKeyById, getTenant } from "../lib/tenant-store";
import { END_USER_TOKEN_PREFIX, verifyEndUserToken } from "../domain/end-user-token";
import { endUserOfIp } from "../domain/client-ip";
import { BOOTSTRAP_ACTOR, OPERATOR_TOKEN_PREFIX, type OperatorContext, requiredRole, roleAllows } from "../domain/operators";
import { handlerRoute } from "./access-log";

const END_USER_HEADER = "x-end-user-id";
const MAX_TOKEN_LENGTH = 1_024;
const MAX_END_USER_LENGTH = 128;

/** The token of an `Authorization: Bearer <token>` header, or null. */
function bearerToken(authorization: string | undefined): string | null {
  return authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? null;
}

/** The API key a request carries: `Authorization: Bearer <key>` or `x-api-key`. */
function presentedKey(authorization: string | undefined, apiKey: string | undefined): string | null {
  return bearerToken(authorization) ?? apiKey?.trim() ?? null;
}

/**
 * A browser's EventSource cannot send headers, so the event stream also takes `?access_token=`,
 * but only for credentials made to live in a browser (end-user tokens, publishable keys): a secret
 * key in a URL would end up in logs.
 */
function browserStreamCredential(method: string, path: string, token: string | undefined): string | null {
  if (method !== "GET" || !path.endsWith("/events") || !token) return null;
  return token.startsWith(END_USER_TOKEN_PREFIX) || token.startsWith("pk_") ? token : null;
}

/** The credential a request presents (header, or `?access_token=` on a browser's event stream), unverified. */
export function presentedCredential(req: {
  method: string;
  path: string;
  header(name: string): string | undefined;
  query(name: string): string | undefined;
}): string | null {
  return presentedKey(req.header("authorization"), req.header("x-api-key")) ?? browserStreamCredential(req.method, req.path, req.query("access_token"));
}

/**
 * The web origin a browser request comes from: `Origin`, or for same-origin GETs (which browsers send
 * without `Origin`, e.g. a page's own EventSource) the origin of `Referer`.
 */
function requestOrigin(origin: string | undefined, referer: string | undefined): string | undefined {
  if (origin) return origin;
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

/**
 * Tenant authentication: an API key (found by its SHA-256 hash in KV) or an end-user token minted with one;
 * then its tenant. Unknown, revoked or expired credential → 401; disabled tenant or origin not allowed for a
 * publishable key → 403. The end user is the token's `sub`, the client IP for a publishable key, or what a
 * secret key's backend says in `X-End-User-Id`.
 */
export const tenantAuth = createMiddleware<AppEnv>(async function tenantAuth(c, next) {
  const presented = presentedCredential(c.req);
  if (!presented) throw new AppError("unauthorized", "Missing API key: send Authorization: Bearer <key> or x-api-key");
  const { key, via, endUser: tokenSub } = await resolveCredential(c.env.TENANTS, c.get("config").signingSecret, presented);
  if (key.revoked_at) throw new AppError("unauthorized", "This API key has been revoked");
  if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) throw new AppError("unauthorized", "This API key has expired");
  const tenant = await getTenant(c.env.TENANTS, key.tenant_id);
  if (!tenant) throw new AppError("unauthorized", "Invalid API key");
  if (tenant.status !== "active") throw new AppError("forbidden", "This tenant is disabled");

  let endUser: string | null = tokenSub;
  if (via === "key" && key.kind === "publishable") {
    // A publishable key without allowed_origins (made before they were required) works nowhere.
    const origin = requestOrigin(c.req.header("origin"), c.req.header("referer"));
    if (!key.allowed_origins || !origin || !key.allowed_origins.includes(origin)) {
      throw new AppError("forbidden", "This publishable key is not allowed from this origin");
    }
    // Set by Cloudflare's edge (a client cannot choose it there); never X-Forwarded-For.
    endUser = endUserOfIp(c.req.header("cf-connecting-ip"));
  } else if (via === "key") {
    const claimed = c.req.header(END_USER_HEADER)?.trim();
    if (claimed) {
      if (claimed.length > MAX_END_USER_LENGTH) throw new AppError("invalid_request", `${END_USER_HEADER} is longer than ${MAX_END_USER_LENGTH} characters`);
      endUser = claimed;
    }
  }
  c.set("auth", { tenant, key, via, endUser });
  await next();
});

/** Tenant authentication when a key is sent (and then it must be valid); a public route answers a caller without one in the default terms. */
export const optionalTenantAuth = createMiddleware<AppEnv>(async function optionalTenantAuth(c, next) {
  if (c.req.header("authorization") || c.req.header("x-api-key")) return tenantAuth(c, next);
  await next();
});

/** The key behind a presented credential: an API key (by its hash) or an end-user token (by its signed claims). */
async function resolveCredential(kv: KVNamespace, signingSecret: string, presented: string) {
  if (presented.startsWith(END_USER_TOKEN_PREFIX)) {
    const claims = presented.length <= MAX_TOKEN_LENGTH ? await verifyEndUserToken(signingSecret, presented, Math.floor(Date.now() / 1000)) : null;
    if (!claims) throw new AppError("unauthorized", "Invalid or expired end-user token");
    const found = await getKeyById(kv, claims.tenant_id, claims.key_id);
    if (!found) throw new AppError("unauthorized", "Invalid or expired end-user token");
    return { key: found.key, via: "end_user_token" as const, endUser: claims.sub };
  }
  if (!/^(sk|pk)_[A-Za-z0-9_-]{20,200}$/.test(presented)) throw new AppError("unauthorized", "Invalid API key");
  const key = await findKey(kv, presented);
  if (!key) throw new AppError("unauthorized", "Invalid API key");
  return { key, via: "key" as const, endUser: null };
}

/**
 * Operator authentication (SPEC §15): `ADMIN_TOKEN` (the bootstrap admin, compared in constant time) or an
 * operator token (`opt_…`, found by its SHA-256 in the operators' object, so a revoked one is refused at once).
 * Then the role check: reads need `viewer`, writes `admin`, except what `requiredRole` lets `billing` do.
 */
export const operatorAuth = createMiddleware<AppEnv>(async function operatorAuth(c, next) {
  const token = bearerToken(c.req.header("authorization"));
  let operator: OperatorContext | null = null;
  if (token && timingSafeEqual(token, c.get("config").adminToken)) operator = { actor: BOOTSTRAP_ACTOR, name: "ADMIN_TOKEN", role: "admin" };
  else if (token?.startsWith(OPERATOR_TOKEN_PREFIX) && token.length <= 200) operator = await operatorLog(c.env).authenticate(await sha256Hex(token));
  if (!operator) throw new AppError("unauthorized", "Missing or invalid admin token");
  const needed = requiredRole(c.req.method, handlerRoute(c));
  if (!roleAllows(operator.role, needed)) {
    throw new AppError("forbidden", `This needs the ${needed} role; this token has the ${operator.role} role`, { role: operator.role, required_role: needed });
  }
  c.set("operator", operator);
  await next();
});
