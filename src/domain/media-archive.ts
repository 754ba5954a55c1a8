/** Pure bookkeeping of a task's archive (SPEC §11, §12): which copies are pending, stored or given up, and when to try again. */

import { findOutputs, type OutputPath, type OutputRef } from "./media-outputs";

/**
 * Where a file lives in R2 and in the proxy's URL space: `media/{taskId}/{i}.{ext}`, or, for archives made when
 * only videos were archived, `videos/{taskId}/{i}.mp4` (their objects and links stay where they are).
 */
export type ArchiveAddress = "media" | "videos";

/** One of a task's output files on its way into R2 (or there, or given up on). */
export interface ArchivedFile {
  index: number;
  /** RunAPI's URL: the copy's source, kept beside the proxy's link once copied. */
  source_url: string;
  /** Where the result names it (`["images", 0, "url"]`), so a view can put the proxy's link in its place. */
  paths: OutputPath[];
  address: ArchiveAddress;
  /** The stored file's extension and Content-Type (from the download's type, else its URL's extension). */
  ext: string | null;
  content_type: string | null;
  state: "pending" | "stored" | "failed";
  attempts: number;
  /** When the next attempt is due (pending only). */
  next_at: number | null;
  bytes: number | null;
  etag: string | null;
  stored_at: number | null;
  /** The last attempt's failure, in words (never a URL's query). */
  error: string | null;
}

/** A task's archive: its files, and the origin its links are signed for when PUBLIC_BASE_URL is not set. */
export interface MediaArchive {
  base_url: string | null;
  started_at: number;
  files: ArchivedFile[];
}

/** A video's entry as archives kept it when only videos were archived (`videos[index].url`). */
type StoredVideo = Omit<ArchivedFile, "paths" | "address" | "ext" | "content_type">;
/** An archive as stored: this shape, or the earlier one (`videos` instead of `files`). */
export type StoredArchive = MediaArchive | (Omit<MediaArchive, "files"> & { videos: StoredVideo[] });

/** An archive as stored, brought up to this shape: an earlier archive's videos keep their `videos/…` objects and links. */
export function upgradeArchive(stored: StoredArchive): MediaArchive {
  if ("files" in stored) return stored;
  const { videos, ...rest } = stored;
  return {
    ...rest,
    files: videos.map((v) => ({ ...v, paths: [["videos", v.index, "url"]], address: "videos", ext: "mp4", content_type: "video/mp4" })),
  };
}

/**
 * What a task's output files are found in: RunAPI's whole result; for a record kept before results were
 * (videos only), or a result cut short without them, its videos.
 */
export function outputSource(task: { result?: Record<string, unknown> | null; videos: { url: string }[] | null }): Record<string, unknown> {
  const source: Record<string, unknown> = { ...(task.result ?? {}) };
  if (task.videos?.length && !Array.isArray(source.videos)) source.videos = task.videos;
  return source;
}

/** A task's output files (see `findOutputs`). */
export function taskOutputs(task: { result?: Record<string, unknown> | null; videos: { url: string }[] | null }): OutputRef[] {
  return findOutputs(outputSource(task));
}

/** Attempts per file before the copy is given up (RunAPI's link then stays in the task). */
export const ARCHIVE_ATTEMPTS = 8;
/** The tenant webhook waits at most this long after completion for the copies to land (see README). */
export const WEBHOOK_ARCHIVE_WAIT_MS = 120_000;
const MAX_RETRY_DELAY_MS = 6 * 3600_000;

/** A new archive for a completed task's output files, all due now. */
export function newArchive(outputs: OutputRef[], baseUrl: string | null, now: number): MediaArchive {
  return {
    base_url: baseUrl,
    started_at: now,
    files: outputs.map((o, index) => ({
      index,
      source_url: o.url,
      paths: o.paths,
      address: "media",
      ext: null,
      content_type: null,
      state: "pending",
      attempts: 0,
      next_at: now,
      bytes: null,
      etag: null,
      stored_at: null,
      error: null,
    })),
  };
}

/** The delay before attempt `attempt + 1` after `attempt` failures: base × 4^(attempt−1), at most 6 h. */
export function archiveRetryDelayMs(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 4 ** Math.max(0, attempt - 1), MAX_RETRY_DELAY_MS);
}

/** Files whose next attempt is due at `now`. */
export function dueFiles(archive: MediaArchive | undefined, now: number): ArchivedFile[] {
  return (archive?.files ?? []).filter((v) => v.state === "pending" && v.next_at !== null && v.next_at <= now);
}

/** The earliest due attempt, or null when every copy is stored or given up. */
export function nextArchiveAt(archive: MediaArchive | undefined): number | null {
  const times = (archive?.files ?? []).filter((v) => v.state === "pending" && v.next_at !== null).map((v) => v.next_at!);
  return times.length ? Math.min(...times) : null;
}

/** True when no copy is still pending (each is stored or given up). */
export function archiveSettled(archive: MediaArchive | undefined): boolean {
  return !archive || archive.files.every((v) => v.state !== "pending");
}

/** What a copy that landed is: its size, R2's ETag, and the type it is served as. */
export interface StoredCopy {
  bytes: number;
  etag: string;
  ext: string;
  content_type: string;
}

/** Records a copy that landed. */
export function recordStored(archive: MediaArchive, index: number, stored: StoredCopy, now: number): void {
  const v = archive.files[index];
  if (!v) return;
  const { bytes, etag, ext, content_type } = stored;
  Object.assign(v, { state: "stored", attempts: v.attempts + 1, next_at: null, bytes, etag, ext, content_type, stored_at: now, error: null });
}

/** Records a failed attempt; returns whether the copy will be retried or was given up. */
export function recordFailure(
  archive: MediaArchive,
  index: number,
  failure: { retryable: boolean; reason: string },
  now: number,
  retryBaseMs: number,
): "retry" | "gave_up" {
  const v = archive.files[index];
  if (!v) return "gave_up";
  v.attempts += 1;
  v.error = failure.reason;
  if (!failure.retryable || v.attempts >= ARCHIVE_ATTEMPTS) {
    v.state = "failed";
    v.next_at = null;
    return "gave_up";
  }
  v.next_at = now + archiveRetryDelayMs(retryBaseMs, v.attempts);
  return "retry";
}

/** When the tenant webhook of a completed task may go: once every copy has settled, or the wait is over. */
export function webhookReleaseAt(archive: MediaArchive | undefined): number {
  return archiveSettled(archive) ? 0 : archive!.started_at + WEBHOOK_ARCHIVE_WAIT_MS;
}
