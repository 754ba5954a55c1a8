import { videoObjectKey } from "../domain/video-url";
import { byteLimit } from "../upstream/read";
import { fetchSource, type Fetcher, type SourcePolicy } from "./source";

/** What to copy: one video of one task, from RunAPI's URL into the archive. */
export interface CopyJob {
  tenantId: string;
  taskId: string;
  index: number;
  sourceUrl: string;
  now: number;
}

/** The result of one attempt: stored, or why not and whether trying again could help. */
export type CopyOutcome = { ok: true; bytes: number; etag: string } | { ok: false; retryable: boolean; reason: string };

/** A single download may take this long (a 60 MB file at 1 MB/s); the alarm that runs it allows 15 min. */
const DOWNLOAD_TIMEOUT_MS = 5 * 60_000;
/** Upload part size when the source does not say its length (R2 wants equal parts of at least 5 MiB). */
export const PART_BYTES = 8 * 1024 * 1024;

/**
 * Downloads one video and writes it to R2 as it arrives, never holding it whole in memory:
 * with a known Content-Length the response body streams straight into `put`; without one, it is
 * cut into 8 MiB parts of a multipart upload. Only URLs (and redirect hops) the policy allows are
 * fetched, and no more than its `maxBytes`, counted as they stream. 408, 429, 5xx and network
 * failures are retryable; other statuses (a link that is gone or refused), refusals and oversize are not.
 */
export async function copyVideo(bucket: R2Bucket, fetcher: Fetcher, job: CopyJob, policy: SourcePolicy): Promise<CopyOutcome> {
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
  const key = videoObjectKey(job.taskId, job.index);
  const options: R2PutOptions = {
    httpMetadata: { contentType: "video/mp4" },
    customMetadata: { tenant: job.tenantId, task: job.taskId, source_url: job.sourceUrl.slice(0, 1024), stored_at: new Date(job.now).toISOString() },
  };
  // Counted as it streams, whatever the source declared: a declared length (within the cap) is held to exactly by
  // the runtime's FixedLengthStream, which refuses a byte more; an undeclared one is counted here.
  let over = false;
  try {
    const object =
      length !== null
        ? await bucket.put(key, res.body.pipeThrough(new FixedLengthStream(length)), options)
        : await withPartSlot(() => putInParts(bucket, key, res.body!.pipeThrough(byteLimit(policy.maxBytes, () => (over = true))), options));
    if (!object) return { ok: false, retryable: true, reason: "R2 did not store the object" };
    if (length !== null && object.size !== length) return { ok: false, retryable: true, reason: `stored ${object.size} of ${length} bytes` };
    return { ok: true, bytes: object.size, etag: object.httpEtag };
  } catch (err) {
    if (over) return tooLarge;
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

/** A stream of unknown length into R2, one 8 MiB part at a time (a short one is a plain put). */
async function putInParts(bucket: R2Bucket, key: string, body: ReadableStream<Uint8Array>, options: R2PutOptions): Promise<R2Object | null> {
  const reader = body.getReader();
  let upload: R2MultipartUpload | null = null;
  const parts: R2UploadedPart[] = [];
  // One buffer for every part: uploadPart has sent it by the time it resolves.
  const buffer = new Uint8Array(PART_BYTES);
  let filled = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let offset = 0;
      while (offset < value.byteLength) {
        const n = Math.min(PART_BYTES - filled, value.byteLength - offset);
        buffer.set(value.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === PART_BYTES) {
          upload ??= await bucket.createMultipartUpload(key, options);
          parts.push(await upload.uploadPart(parts.length + 1, buffer));
          filled = 0;
        }
      }
    }
    if (!upload) return await bucket.put(key, buffer.subarray(0, filled), options);
    if (filled > 0) parts.push(await upload.uploadPart(parts.length + 1, buffer.subarray(0, filled)));
    return await upload.complete(parts);
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    await upload?.abort().catch(() => undefined);
    throw err;
  }
}

function parseLength(header: string | null): number | null {
  return header !== null && /^\d{1,15}$/.test(header) ? Number(header) : null;
}
