import type { ArchiveAddress, StoredCopy } from "../domain/media-archive";
import { archiveObjectKey } from "../domain/media-url";
import { mediaTypeOf, type MediaType } from "../domain/media-types";
import { fetchSource, type Fetcher, type SourcePolicy } from "./source";

/** What to copy: one output file of one task, from RunAPI's URL into the archive. */
export interface CopyJob {
  tenantId: string;
  /** The key that created the task: stored with the object, so its links stop when the key is revoked. */
  keyId: string;
  taskId: string;
  index: number;
  address: ArchiveAddress;
  sourceUrl: string;
  now: number;
}

/** The result of one attempt: stored (with the type it is served as), or why not and whether trying again could help. */
export type CopyOutcome = ({ ok: true } & StoredCopy) | { ok: false; retryable: boolean; reason: string };

/** What archives made when only videos were archived hold: MP4 at `videos/…`. */
const VIDEO: MediaType = { ext: "mp4", contentType: "video/mp4" };

/** A single download may take this long (a 60 MB file at 1 MB/s); the alarm that runs it allows 15 min. */
const DOWNLOAD_TIMEOUT_MS = 5 * 60_000;
/** Upload part size when the source does not say its length (R2 wants equal parts of at least 5 MiB). */
export const PART_BYTES = 8 * 1024 * 1024;

/**
 * Downloads one file and writes it to R2 as it arrives, never holding it whole in memory, under its own type
 * (the response's Content-Type when it is a known media type, else its URL's extension; see `mediaTypeOf`):
 * with a known Content-Length the response body streams straight into `put`; without one, it is
 * cut into 8 MiB parts of a multipart upload. Only URLs (and redirect hops) the policy allows are
 * fetched, and no more than its `maxBytes`, counted as they stream. 408, 429, 5xx and network
 * failures are retryable; other statuses (a link that is gone or refused), refusals and oversize are not.
 */
export async function copyFile(bucket: R2Bucket, fetcher: Fetcher, job: CopyJob, policy: SourcePolicy): Promise<CopyOutcome> {
  let res: Response;
  try {
    const answer = await fetchSource(fetcher, job.sourceUrl, policy, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS));
    if (!answer.ok) return answer;
    res = answer.res;
  } catch (err) {
    return { ok: false, retryable: true, reason: err instanceof Error && err.name === "TimeoutError" ? "download timed out" : "download failed to connect" };
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    return { ok: false, retryable, reason: `the source answered ${res.status}` };
  }
  const tooLarge = { ok: false, retryable: false, reason: `the source is larger than ARCHIVE_MAX_BYTES (${policy.maxBytes} bytes)` } as const;
  // A compressed response is decoded on the way in, so its Content-Length is not the length we write.
  const length = res.headers.has("content-encoding") ? null : parseLength(res.headers.get("content-length"));
  if (length !== null && length > policy.maxBytes) {
    await res.body.cancel();
    return tooLarge;
  }
  const type = job.address === "videos" ? VIDEO : mediaTypeOf(res.headers.get("content-type"), res.url || job.sourceUrl);
  const key = archiveObjectKey({ address: job.address, taskId: job.taskId, index: job.index, ext: type.ext });
  const options: R2PutOptions = {
    httpMetadata: { contentType: type.contentType },
    customMetadata: {
      tenant: job.tenantId,
      key: job.keyId,
      task: job.taskId,
      source_url: job.sourceUrl.slice(0, 1024),
      stored_at: new Date(job.now).toISOString(),
    },
  };
  // Counted as it streams, whatever the source declared: a declared length (within the cap) is held to exactly by
  // the runtime's FixedLengthStream, which refuses a byte more; an undeclared one is counted here.
  try {
    const object =
      length !== null
        ? await bucket.put(key, res.body.pipeThrough(new FixedLengthStream(length)), options)
        : await withPartSlot(() => putInParts(bucket, key, res.body!, policy.maxBytes, options));
    if (!object) return { ok: false, retryable: true, reason: "R2 did not store the object" };
    if (length !== null && object.size !== length) return { ok: false, retryable: true, reason: `stored ${object.size} of ${length} bytes` };
    return { ok: true, bytes: object.size, etag: object.httpEtag, ext: type.ext, content_type: type.contentType };
  } catch (err) {
    if (err instanceof TooLarge) return tooLarge;
    // A body cut short, an R2 hiccup: both pass.
    return { ok: false, retryable: true, reason: `copy interrupted (${err instanceof Error ? err.name : "error"})` };
  }
}

/** Copies without a length hold an 8 MiB part buffer each; the tenant's alarm runs many tasks at once, an isolate has 128 MB. */
const MAX_PART_COPIES = 3;
let partCopies = 0;
const waitingForSlot: (() => void)[] = [];

async function withPartSlot<T>(fn: () => Promise<T>): Promise<T> {
  while (partCopies >= MAX_PART_COPIES) await new Promise<void>((resolve) => waitingForSlot.push(resolve));
  partCopies++;
  try {
    return await fn();
  } finally {
    partCopies--;
    waitingForSlot.shift()?.();
  }
}

/** The body grew past the archive's cap while being cut into parts. */
class TooLarge extends Error {}

/**
 * A stream of unknown length into R2, one 8 MiB part at a time (a short one is a plain put), counted against
 * `maxBytes` as it arrives. The body is read straight into the one part buffer (a BYOB read where the stream
 * is a byte stream, as a fetch body is): no chunk is allocated, copied and left for the garbage collector.
 */
async function putInParts(bucket: R2Bucket, key: string, body: ReadableStream<Uint8Array>, maxBytes: number, options: R2PutOptions): Promise<R2Object | null> {
  const source = partSource(body);
  let upload: R2MultipartUpload | null = null;
  const parts: R2UploadedPart[] = [];
  // One buffer for every part: uploadPart has sent it by the time it resolves.
  let part: Uint8Array = new Uint8Array(PART_BYTES);
  let total = 0;
  try {
    for (;;) {
      const read = await source.fill(part);
      part = read.part;
      total += read.filled;
      if (total > maxBytes) throw new TooLarge();
      if (read.filled < PART_BYTES) {
        if (!upload) return await bucket.put(key, part.subarray(0, read.filled), options);
        if (read.filled > 0) parts.push(await upload.uploadPart(parts.length + 1, part.subarray(0, read.filled)));
        return await upload.complete(parts);
      }
      upload ??= await bucket.createMultipartUpload(key, options);
      parts.push(await upload.uploadPart(parts.length + 1, part));
    }
  } catch (err) {
    await source.cancel();
    await upload?.abort().catch(() => undefined);
    throw err;
  }
}

/** Fills a part buffer from a body: a BYOB reader into the buffer itself where the stream allows it, else chunk by chunk. */
function partSource(body: ReadableStream<Uint8Array>) {
  let byob: ReadableStreamBYOBReader | null = null;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream (one a test made in JS): read its chunks and copy them in.
  }
  const reader = byob ?? body.getReader();
  let pending: Uint8Array | null = null;
  return {
    cancel: () => reader.cancel().catch(() => undefined),
    /** Reads until `part` is full or the body ends; returns the buffer (a BYOB read hands it back transferred) and its fill. */
    async fill(part: Uint8Array): Promise<{ part: Uint8Array; filled: number }> {
      let filled = 0;
      while (filled < part.byteLength) {
        if (byob) {
          const { done, value } = await byob.read(part.subarray(filled));
          if (value) part = new Uint8Array(value.buffer, 0, PART_BYTES);
          if (done) break;
          filled += value.byteLength;
          continue;
        }
        const chunk = pending ?? (await (reader as ReadableStreamDefaultReader<Uint8Array>).read()).value;
        if (!chunk) break;
        const n = Math.min(part.byteLength - filled, chunk.byteLength);
        part.set(chunk.subarray(0, n), filled);
        filled += n;
        pending = n < chunk.byteLength ? chunk.subarray(n) : null;
      }
      return { part, filled };
    },
  };
}

function parseLength(header: string | null): number | null {
  return header !== null && /^\d{1,15}$/.test(header) ? Number(header) : null;
}
