import { base64url, hmacSha256, timingSafeEqual } from "../lib/crypto";

/**
 * End-user tokens: short-lived bearer tokens a tenant's backend mints (with its secret key)
 * for one of its users, so a front end can call the proxy without any long-lived key.
 * `eut_<base64url(claims)>.<base64url(HMAC-SHA256(signing secret, claims))>`.
 */
export const END_USER_TOKEN_PREFIX = "eut_";

/** What a token carries: tenant, the key that minted it, the end user (`sub`) and expiry (unix seconds). */
export interface EndUserClaims {
  tenant_id: string;
  key_id: string;
  sub: string;
  exp: number;
}

const encoder = new TextEncoder();

/** Mints a token for `claims`. */
export async function signEndUserToken(secret: string, claims: EndUserClaims): Promise<string> {
  const payload = base64url(encoder.encode(JSON.stringify([1, claims.tenant_id, claims.key_id, claims.sub, claims.exp])));
  return `${END_USER_TOKEN_PREFIX}${payload}.${base64url(await hmacSha256(secret, `eut:${payload}`))}`;
}

/** The claims of a token whose signature holds and which has not expired at `nowSeconds`; else null. */
export async function verifyEndUserToken(secret: string, token: string, nowSeconds: number): Promise<EndUserClaims | null> {
  if (!token.startsWith(END_USER_TOKEN_PREFIX)) return null;
  const [payload, signature, ...rest] = token.slice(END_USER_TOKEN_PREFIX.length).split(".");
  if (!payload || !signature || rest.length) return null;
  if (!timingSafeEqual(signature, base64url(await hmacSha256(secret, `eut:${payload}`)))) return null;
  let decoded: unknown;
  try {
    decoded = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
  if (!Array.isArray(decoded) || decoded[0] !== 1) return null;
  const [, tenant_id, key_id, sub, exp] = decoded as unknown[];
  if (typeof tenant_id !== "string" || typeof key_id !== "string" || typeof sub !== "string" || typeof exp !== "number") return null;
  return exp > nowSeconds ? { tenant_id, key_id, sub, exp } : null;
}
