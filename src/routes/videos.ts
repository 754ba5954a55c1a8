import { Hono } from "hono";
import type { AppEnv } from "../env";
import { verifyVideoUrl, videoObjectKey } from "../domain/video-url";
import { parseRange } from "../lib/byte-range";
import { AppError } from "../lib/errors";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FILE = /^(\d{1,3})\.mp4$/;
/** Browsers and CDNs may keep a video this long at most, and never past its link's expiry. */
const MAX_AGE_SECONDS = 365 * 86_400;

const REFUSALS = {
  missing: "This video link is not signed; read the task again for a signed link",
  malformed: "This video link is not signed correctly; read the task again for a fresh link",
  bad_signature: "This video link is not valid; read the task again for a fresh link",
  expired: "This video link has expired; read the task again for a fresh link",
} as const;

/**
 * `GET /videos/{taskId}/{i}.mp4?exp&sig`: an archived video, streamed from R2. No tenant key:
 * the signature is the credential. Seekable (`Range` → 206), cacheable until the link expires.
 */
export const videos = new Hono<AppEnv>().get("/:taskId/:file", async (c) => {
  const { taskId, file } = c.req.param();
  const index = FILE.exec(file)?.[1];
  if (!UUID.test(taskId) || index === undefined) throw new AppError("not_found", "No such video");
  const now = Date.now();
  const check = await verifyVideoUrl(c.var.config.signingSecret, taskId, Number(index), c.req.query("exp"), c.req.query("sig"), now);
  if (!check.ok) throw new AppError("forbidden", REFUSALS[check.reason]);
  const bucket = c.env.VIDEOS;
  if (!bucket) throw new AppError("not_found", "The video archive is not enabled on this proxy");

  const key = videoObjectKey(taskId, Number(index));
  const head = await bucket.head(key);
  if (!head) throw new AppError("not_found", `No such video (archived videos are kept for ${c.var.config.videoRetentionMs / 86_400_000} days)`);
  const headers = new Headers({
    "Content-Type": "video/mp4",
    "Accept-Ranges": "bytes",
    ETag: head.httpEtag,
    "Last-Modified": head.uploaded.toUTCString(),
    "Cache-Control": `public, max-age=${Math.max(0, Math.min(MAX_AGE_SECONDS, check.exp - Math.ceil(now / 1000)))}, immutable`,
    // The link itself is the credential, so any page may play it (the demo page's <video> included).
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Range, Content-Length, ETag, Accept-Ranges",
  });
  if (c.req.header("if-none-match") === head.httpEtag) return new Response(null, { status: 304, headers });

  // If-Range with another validator: the client's partial copy is stale, so it gets the whole video.
  const ifRange = c.req.header("if-range");
  const range = ifRange !== undefined && ifRange !== head.httpEtag ? null : parseRange(c.req.header("range"), head.size);
  if (range === "unsatisfiable") {
    throw new AppError(
      "range_not_satisfiable",
      `The requested range is outside the video's ${head.size} bytes`,
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
  if (!object) throw new AppError("not_found", "No such video");
  return new Response(object.body, { status, headers });
});
