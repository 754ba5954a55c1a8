import { type Context, Hono } from "hono";
import { linkRefusal } from "../archive/access";
import type { AppEnv } from "../env";
import { archiveObjectKey, type ArchivedObject, verifyMediaUrl } from "../domain/media-url";
import { parseRange } from "../lib/byte-range";
import { AppError } from "../lib/errors";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VIDEO_FILE = /^(\d{1,3})\.mp4$/;
const MEDIA_FILE = /^(\d{1,3})\.([a-z0-9]{1,5})$/;
/** Browsers may keep a file this long at most, and never past its link's expiry. */
const MAX_AGE_SECONDS = 365 * 86_400;
/** Shared caches revalidate within this, so a revoked link stops there too (SPEC §13). */
const SHARED_MAX_AGE_SECONDS = 60;

const REFUSALS = {
  missing: "This link is not signed; read the task again for a signed link",
  malformed: "This link is not signed correctly; read the task again for a fresh link",
  bad_signature: "This link is not valid; read the task again for a fresh link",
  expired: "This link has expired; read the task again for a fresh link",
} as const;

/**
 * Streams an archived file from R2 once its link checks out: signed and unexpired, and its owner still allowed
 * (the tenant enabled, the task's key not revoked). Seekable (`Range` → 206), cacheable until the link expires.
 */
async function serveArchived(c: Context<AppEnv>, file: ArchivedObject): Promise<Response> {
  const now = Date.now();
  const check = await verifyMediaUrl(c.var.config.signingSecret, file, c.req.query("exp"), c.req.query("sig"), now);
  if (!check.ok) throw new AppError("forbidden", REFUSALS[check.reason]);
  const bucket = c.env.VIDEOS;
  if (!bucket) throw new AppError("not_found", "The archive is not enabled on this proxy");

  const key = archiveObjectKey(file);
  const head = await bucket.head(key);
  if (!head) throw new AppError("not_found", `No such file (archived files are kept for ${c.var.config.videoRetentionMs / 86_400_000} days)`);
  const meta = head.customMetadata ?? {};
  if (await linkRefusal(c.env, { tenantId: meta.tenant, keyId: meta.key, taskId: file.taskId }, now)) {
    throw new AppError("forbidden", "This link has been revoked");
  }
  const contentType = file.address === "videos" ? "video/mp4" : (head.httpMetadata?.contentType ?? "application/octet-stream");
  const headers = new Headers({
    "Content-Type": contentType,
    "Accept-Ranges": "bytes",
    ETag: head.httpEtag,
    "Last-Modified": head.uploaded.toUTCString(),
    "Cache-Control": `public, max-age=${Math.max(0, Math.min(MAX_AGE_SECONDS, check.exp - Math.ceil(now / 1000)))}, s-maxage=${SHARED_MAX_AGE_SECONDS}, immutable`,
    // Served as the type it was stored with, never sniffed into something a browser would run.
    "X-Content-Type-Options": "nosniff",
    // The link itself is the credential, so any page may play it (the demo page's <video> included).
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Range, Content-Length, ETag, Accept-Ranges",
  });
  if (contentType === "application/octet-stream") headers.set("Content-Disposition", "attachment");
  if (c.req.header("if-none-match") === head.httpEtag) return new Response(null, { status: 304, headers });

  // If-Range with another validator: the client's partial copy is stale, so it gets the whole file.
  const ifRange = c.req.header("if-range");
  const range = ifRange !== undefined && ifRange !== head.httpEtag ? null : parseRange(c.req.header("range"), head.size);
  if (range === "unsatisfiable") {
    throw new AppError(
      "range_not_satisfiable",
      `The requested range is outside the file's ${head.size} bytes`,
      { size: head.size },
      {
        "Content-Range": `bytes */${head.size}`,
        "Accept-Ranges": "bytes",
      },
    );
  }
  const length = range ? range.length : head.size;
  headers.set("Content-Length", String(length));
  if (range) headers.set("Content-Range", `bytes ${range.offset}-${range.offset + range.length - 1}/${head.size}`);
  const status = range ? 206 : 200;
  if (c.req.method === "HEAD") return new Response(null, { status, headers });

  const object = await bucket.get(key, range ? { range } : {});
  if (!object) throw new AppError("not_found", "No such file");
  return new Response(object.body, { status, headers });
}

/**
 * `GET /media/{taskId}/{i}.{ext}?exp&sig`: an archived output file of any modality (SPEC §12), with the Content-Type
 * it was stored with. No tenant key: the signature is the credential.
 */
export const media = new Hono<AppEnv>().get("/:taskId/:file", async (c) => {
  const { taskId, file } = c.req.param();
  const m = MEDIA_FILE.exec(file);
  if (!UUID.test(taskId) || !m) throw new AppError("not_found", "No such file");
  return serveArchived(c, { address: "media", taskId, index: Number(m[1]), ext: m[2]! });
});

/** `GET /videos/{taskId}/{i}.mp4?exp&sig`: a video archived when only videos were archived; its links keep working. */
export const videos = new Hono<AppEnv>().get("/:taskId/:file", async (c) => {
  const { taskId, file } = c.req.param();
  const index = VIDEO_FILE.exec(file)?.[1];
  if (!UUID.test(taskId) || index === undefined) throw new AppError("not_found", "No such video");
  return serveArchived(c, { address: "videos", taskId, index: Number(index), ext: "mp4" });
});
