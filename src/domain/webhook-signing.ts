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

/** The callback token: an HMAC of the task id under the server's signing secret, so a guessed URL is a 404. */
export async function callbackToken(signingSecret: string, taskId: string): Promise<string> {
  return base64url(await hmacSha256(signingSecret, `runapi-callback:${taskId}`));
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
