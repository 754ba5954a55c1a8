import { base64url, hmacSha256 } from "../lib/crypto";

/** Standard Webhooks (standardwebhooks.com): `whsec_` + base64 of the raw key bytes. */
export const WEBHOOK_SECRET_PREFIX = "whsec_";

/** A new signing secret with 256 bits of randomness. */
export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * The Standard Webhooks headers for one delivery:
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the secret's key bytes.
 */
export async function signWebhook(secret: string, msgId: string, timestampSeconds: number, body: string): Promise<Record<string, string>> {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new Error("webhook secret must start with whsec_");
  const key = fromBase64(secret.slice(WEBHOOK_SECRET_PREFIX.length));
  const mac = await hmacSha256(key, `${msgId}.${timestampSeconds}.${body}`);
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": `v1,${toBase64(mac)}`,
  };
}

/**
 * The callback token: the tenant's id (which names the object that owns the task) and an HMAC of
 * tenant and task under the server's signing secret, so a guessed or altered URL is a 404.
 */
export async function callbackToken(signingSecret: string, tenantId: string, taskId: string): Promise<string> {
  const mac = base64url(await hmacSha256(signingSecret, `runapi-callback:${tenantId}:${taskId}`));
  return `${base64url(new TextEncoder().encode(tenantId))}.${mac}`;
}

/** The tenant a callback token names (not yet verified: compare the whole token with `callbackToken`), or null. */
export function callbackTokenTenant(token: string): string | null {
  const part = token.split(".")[0];
  if (!part || part.length > 200 || !/^[A-Za-z0-9_-]+$/.test(part)) return null;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0)),
    );
  } catch {
    return null;
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}
