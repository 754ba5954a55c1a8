import { base64url, hmacSha256, timingSafeEqual } from "../lib/crypto";
import type { ArchiveAddress } from "./media-archive";

/**
 * Signs archive links only: a signature made for another purpose under the same secret never verifies here.
 * `/videos/…` links (archives made when only videos were archived) keep the label and message they were issued with.
 */
const LABELS: Readonly<Record<ArchiveAddress, string>> = { videos: "video-url:v1", media: "media-url:v1" };
/** Expiries are rounded up to this step, so a task read twice within it shows the same URL (and caches hit). */
export const MEDIA_URL_EXP_STEP_SECONDS = 3600;

/** One archived file: where it lives (`media/…` or `videos/…`), its task, its number and its extension. */
export interface ArchivedObject {
  address: ArchiveAddress;
  taskId: string;
  index: number;
  ext: string;
}

/** Its R2 key, which is also its path on the proxy: `media/{taskId}/{index}.{ext}`, or `videos/{taskId}/{index}.mp4`. */
export function archiveObjectKey(file: ArchivedObject): string {
  return file.address === "videos" ? `videos/${file.taskId}/${file.index}.mp4` : `media/${file.taskId}/${file.index}.${file.ext}`;
}

/** The expiry (Unix seconds) of a link signed at `nowMs`: at least `ttlSeconds` away, rounded up to the hour. */
export function mediaUrlExpiry(nowMs: number, ttlSeconds: number): number {
  const exp = Math.floor(nowMs / 1000) + ttlSeconds;
  return Math.ceil(exp / MEDIA_URL_EXP_STEP_SECONDS) * MEDIA_URL_EXP_STEP_SECONDS;
}

async function signature(secret: string, file: ArchivedObject, exp: number): Promise<string> {
  // A /videos link signs its number alone, as it always did; a /media link its file name, extension included.
  const name = file.address === "videos" ? String(file.index) : `${file.index}.${file.ext}`;
  return base64url(await hmacSha256(secret, `${LABELS[file.address]}\n${file.taskId}\n${name}\n${exp}`));
}

/** `{base}/media/{taskId}/{index}.{ext}?exp=…&sig=…` (or `/videos/…`): the proxy's own, expiring link to an archived file. */
export async function signMediaUrl(secret: string, base: string, file: ArchivedObject, exp: number): Promise<string> {
  const sig = await signature(secret, file, exp);
  return `${base.replace(/\/+$/, "")}/${archiveObjectKey(file)}?exp=${exp}&sig=${sig}`;
}

/** Why a link is refused. */
export type MediaUrlRefusal = "missing" | "malformed" | "expired" | "bad_signature";

/**
 * Checks a link's `exp` and `sig` (as they came in the query) at `nowMs`.
 * The signature is compared in constant time; an expired link is refused even when its signature is right.
 */
export async function verifyMediaUrl(
  secret: string,
  file: ArchivedObject,
  exp: string | undefined,
  sig: string | undefined,
  nowMs: number,
): Promise<{ ok: true; exp: number } | { ok: false; reason: MediaUrlRefusal }> {
  if (exp === undefined || sig === undefined) return { ok: false, reason: "missing" };
  if (!/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return { ok: false, reason: "malformed" };
  const expSeconds = Number(exp);
  if (!timingSafeEqual(sig, await signature(secret, file, expSeconds))) return { ok: false, reason: "bad_signature" };
  if (expSeconds * 1000 <= nowMs) return { ok: false, reason: "expired" };
  return { ok: true, exp: expSeconds };
}
