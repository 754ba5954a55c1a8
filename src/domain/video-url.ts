import { base64url, hmacSha256, timingSafeEqual } from "../lib/crypto";

/** Signs video links only: a signature made for another purpose under the same secret never verifies here. */
const LABEL = "video-url:v1";
/** Expiries are rounded up to this step, so a task read twice within it shows the same URL (and caches hit). */
export const VIDEO_URL_EXP_STEP_SECONDS = 3600;

/** Where an archived video lives in R2 and in the proxy's URL space: `videos/{taskId}/{index}.mp4`. */
export function videoObjectKey(taskId: string, index: number): string {
  return `videos/${taskId}/${index}.mp4`;
}

/** The expiry (Unix seconds) of a link signed at `nowMs`: at least `ttlSeconds` away, rounded up to the hour. */
export function videoUrlExpiry(nowMs: number, ttlSeconds: number): number {
  const exp = Math.floor(nowMs / 1000) + ttlSeconds;
  return Math.ceil(exp / VIDEO_URL_EXP_STEP_SECONDS) * VIDEO_URL_EXP_STEP_SECONDS;
}

async function signature(secret: string, taskId: string, index: number, exp: number): Promise<string> {
  return base64url(await hmacSha256(secret, `${LABEL}\n${taskId}\n${index}\n${exp}`));
}

/** `{base}/videos/{taskId}/{index}.mp4?exp=…&sig=…`: the proxy's own, expiring link to an archived video. */
export async function signVideoUrl(secret: string, base: string, taskId: string, index: number, exp: number): Promise<string> {
  const sig = await signature(secret, taskId, index, exp);
  return `${base.replace(/\/+$/, "")}/videos/${taskId}/${index}.mp4?exp=${exp}&sig=${sig}`;
}

/** Why a video link is refused. */
export type VideoUrlRefusal = "missing" | "malformed" | "expired" | "bad_signature";

/**
 * Checks a link's `exp` and `sig` (as they came in the query) at `nowMs`.
 * The signature is compared in constant time; an expired link is refused even when its signature is right.
 */
export async function verifyVideoUrl(
  secret: string,
  taskId: string,
  index: number,
  exp: string | undefined,
  sig: string | undefined,
  nowMs: number,
): Promise<{ ok: true; exp: number } | { ok: false; reason: VideoUrlRefusal }> {
  if (exp === undefined || sig === undefined) return { ok: false, reason: "missing" };
  if (!/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return { ok: false, reason: "malformed" };
  const expSeconds = Number(exp);
  if (!timingSafeEqual(sig, await signature(secret, taskId, index, expSeconds))) return { ok: false, reason: "bad_signature" };
  if (expSeconds * 1000 <= nowMs) return { ok: false, reason: "expired" };
  return { ok: true, exp: expSeconds };
}
