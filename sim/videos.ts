import { Hono } from "hono";
import { SimError, simState, type SimApp, type SimEnv } from "./env";
import { tinyMp3, tinyPng } from "./media-fixtures";
import { fileKindOf } from "./outputs";
import { tinyMp4 } from "./video-fixture";

/** File faults asked for in a request (`[sim:video-…]`; they apply to every file of the task). */
export interface VideoMarkers {
  /** The video is never there (404). */
  gone: boolean;
  /** The first N downloads answer 503. */
  flaky: number;
  /** Serve N MiB of synthetic bytes, generated as they are sent, instead of the small real MP4. */
  mebibytes: number | null;
  /** Send without Content-Length (chunked), as some CDNs do. */
  chunked: boolean;
}

const MAX_MEBIBYTES = 2048;
const BLOCK = 64 * 1024;

/** Finds the `[sim:video-…]` markers in a request's text. */
export function parseVideoMarkers(prompt: string): VideoMarkers {
  const flaky = /\[sim:video-flaky=(\d{1,3})\]/.exec(prompt);
  const mb = /\[sim:video-mb=(\d{1,4})\]/.exec(prompt);
  return {
    gone: prompt.includes("[sim:video-gone]"),
    flaky: flaky ? Number(flaky[1]) : 0,
    mebibytes: mb ? Math.min(Number(mb[1]), MAX_MEBIBYTES) : null,
    chunked: prompt.includes("[sim:video-chunked]"),
  };
}

/** Byte `i` of a synthetic video: a fixed pattern, so a copy can be checked without keeping the original. */
export function syntheticByte(i: number): number {
  return (i * 31 + 7) & 0xff;
}

/** One 64 KiB block of the pattern (its period, 256, divides the block, so every block is the same). */
const PATTERN_BLOCK = Uint8Array.from({ length: BLOCK }, (_, i) => syntheticByte(i));

/**
 * `bytes` of the synthetic pattern, one block at a time as the reader pulls: the same read-only block is
 * sent again and again, so the simulator allocates nothing per block and a memory reading shows the proxy's.
 */
function syntheticStream(bytes: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const n = Math.min(BLOCK, bytes - sent);
        if (n <= 0) return controller.close();
        sent += n;
        controller.enqueue(n === BLOCK ? PATTERN_BLOCK : PATTERN_BLOCK.subarray(0, n));
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Serves file `index` of a task: the small real file of its modality (MP4, PNG, MP3), or for a video the large
 * synthetic one its request asks for. No auth, like a CDN link; every download is counted; `[sim:video-…]`
 * faults apply to every file of the task.
 */
async function serveTaskFile(env: SimEnv, id: string, index: number, ext: string): Promise<Response> {
  const seen = await simState(env).fileDownload(id);
  const kind = seen ? fileKindOf(seen.modality) : null;
  if (seen?.status !== "completed" || !kind || kind.ext !== ext || index >= seen.files) throw new SimError(404, "not_found", "No such file");
  const markers = parseVideoMarkers(seen.text);
  if (markers.gone || seen.vanished) throw new SimError(404, "not_found", "This file has expired");
  if (seen.downloads <= markers.flaky) throw new SimError(503, "unavailable", "File storage temporarily unavailable");
  const headers: Record<string, string> = { "Content-Type": kind.mime };
  if (markers.mebibytes === null || seen.modality !== "video") {
    const bytes = seen.modality === "video" ? tinyMp4() : seen.modality === "image" ? tinyPng() : tinyMp3();
    if (!markers.chunked) headers["Content-Length"] = String(bytes.length);
    return new Response(markers.chunked ? new Blob([bytes]).stream() : bytes, { headers });
  }
  const size = markers.mebibytes * 1024 * 1024;
  if (markers.chunked) return new Response(syntheticStream(size), { headers });
  // Said explicitly: a service binding (tests) passes the header on, and the proxy decides by it, as over HTTP.
  headers["Content-Length"] = String(size);
  return new Response(syntheticStream(size).pipeThrough(new FixedLengthStream(size)), { headers });
}

const TASK_ID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

/** RunAPI's output links: `GET /videos/{taskId}.mp4`, a video task's first file (its older address). */
export const videoFiles = new Hono<SimApp>().get("/:file", async (c) => {
  const id = new RegExp(`^(${TASK_ID})\\.mp4$`, "i").exec(c.req.param("file"))?.[1];
  if (!id) throw new SimError(404, "not_found", "No such video");
  return serveTaskFile(c.env, id.toLowerCase(), 0, "mp4");
});

/** RunAPI's output links: `GET /files/{taskId}/{i}.{ext}`, every file of a completed task, with its own Content-Type. */
export const taskFiles = new Hono<SimApp>().get("/:id/:file", async (c) => {
  const id = c.req.param("id");
  const file = /^(\d{1,2})\.([a-z0-9]{2,4})$/.exec(c.req.param("file"));
  if (!new RegExp(`^${TASK_ID}$`, "i").test(id) || !file) throw new SimError(404, "not_found", "No such file");
  return serveTaskFile(c.env, id.toLowerCase(), Number(file[1]), file[2]!);
});

/** Control API for a task's files: make them vanish (as RunAPI's links do after a week), count their downloads. */
export const videoControl = new Hono<SimApp>()
  .post("/:id/vanish", async (c) => {
    if (!(await simState(c.env).vanishVideo(c.req.param("id")))) throw new SimError(404, "not_found", `Task ${c.req.param("id")} not found`);
    return c.json({ vanished: true });
  })
  .get("/:id", async (c) => c.json(await simState(c.env).videoStats(c.req.param("id"))));
