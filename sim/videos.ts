import { Hono } from "hono";
import { SimError, simState, type SimApp } from "./env";
import { tinyMp4 } from "./video-fixture";

/** Video faults asked for in a prompt (`[sim:video-…]`). */
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

/** Finds the `[sim:video-…]` markers in a prompt. */
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
 * RunAPI's output files: `GET /videos/{taskId}.mp4` serves a completed task's video (no auth, like a CDN link),
 * a small real MP4 unless the prompt asks for a large synthetic one. Every download is counted.
 */
export const videoFiles = new Hono<SimApp>().get("/:file", async (c) => {
  const id = /^([0-9a-f-]{36})\.mp4$/i.exec(c.req.param("file"))?.[1];
  const seen = id ? await simState(c.env).videoDownload(id) : null;
  if (seen?.status !== "completed" || !seen) throw new SimError(404, "not_found", "No such video");
  const markers = parseVideoMarkers(seen.prompt);
  if (markers.gone || seen.vanished) throw new SimError(404, "not_found", "This video has expired");
  if (seen.downloads <= markers.flaky) throw new SimError(503, "unavailable", "Video storage temporarily unavailable");
  const headers: Record<string, string> = { "Content-Type": "video/mp4" };
  if (markers.mebibytes === null) {
    const bytes = tinyMp4();
    if (!markers.chunked) headers["Content-Length"] = String(bytes.length);
    return new Response(markers.chunked ? new Blob([bytes]).stream() : bytes, { headers });
  }
  const size = markers.mebibytes * 1024 * 1024;
  if (markers.chunked) return new Response(syntheticStream(size), { headers });
  // Said explicitly: a service binding (tests) passes the header on, and the proxy decides by it, as over HTTP.
  headers["Content-Length"] = String(size);
  return new Response(syntheticStream(size).pipeThrough(new FixedLengthStream(size)), { headers });
});

/** Control API for videos: make one vanish (as RunAPI's links do after a week), count its downloads. */
export const videoControl = new Hono<SimApp>()
  .post("/:id/vanish", async (c) => {
    if (!(await simState(c.env).vanishVideo(c.req.param("id")))) throw new SimError(404, "not_found", `Task ${c.req.param("id")} not found`);
    return c.json({ vanished: true });
  })
  .get("/:id", async (c) => c.json(await simState(c.env).videoStats(c.req.param("id"))));
