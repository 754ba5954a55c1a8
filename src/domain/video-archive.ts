/** Pure bookkeeping of a task's video archive (SPEC §11): which copies are pending, stored or given up, and when to try again. */

/** One of a task's videos on its way into R2 (or there, or given up on). */
export interface ArchivedVideo {
  index: number;
  /** RunAPI's URL: the copy's source, and `source_url` in the task once copied. */
  source_url: string;
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

/** A task's archive: its videos, and the origin its links are signed for when PUBLIC_BASE_URL is not set. */
export interface VideoArchive {
  base_url: string | null;
  started_at: number;
  videos: ArchivedVideo[];
}

/** Attempts per video before the copy is given up (RunAPI's link then stays in the task). */
export const ARCHIVE_ATTEMPTS = 8;
/** The tenant webhook waits at most this long after completion for the copies to land (see README). */
export const WEBHOOK_ARCHIVE_WAIT_MS = 120_000;
const MAX_RETRY_DELAY_MS = 6 * 3600_000;

/** A new archive for a completed task's videos, all due now. */
export function newArchive(videos: { url: string }[], baseUrl: string | null, now: number): VideoArchive {
  return {
    base_url: baseUrl,
    started_at: now,
    videos: videos.map((v, index) => ({
      index,
      source_url: v.url,
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

/** Videos whose next attempt is due at `now`. */
export function dueVideos(archive: VideoArchive | undefined, now: number): ArchivedVideo[] {
  return (archive?.videos ?? []).filter((v) => v.state === "pending" && v.next_at !== null && v.next_at <= now);
}

/** The earliest due attempt, or null when every copy is stored or given up. */
export function nextArchiveAt(archive: VideoArchive | undefined): number | null {
  const times = (archive?.videos ?? []).filter((v) => v.state === "pending" && v.next_at !== null).map((v) => v.next_at!);
  return times.length ? Math.min(...times) : null;
}

/** True when no copy is still pending (each is stored or given up). */
export function archiveSettled(archive: VideoArchive | undefined): boolean {
  return !archive || archive.videos.every((v) => v.state !== "pending");
}

/** Records a copy that landed. */
export function recordStored(archive: VideoArchive, index: number, stored: { bytes: number; etag: string }, now: number): void {
  const v = archive.videos[index];
  if (!v) return;
  Object.assign(v, { state: "stored", attempts: v.attempts + 1, next_at: null, bytes: stored.bytes, etag: stored.etag, stored_at: now, error: null });
}

/** Records a failed attempt; returns whether the copy will be retried or was given up. */
export function recordFailure(
  archive: VideoArchive,
  index: number,
  failure: { retryable: boolean; reason: string },
  now: number,
  retryBaseMs: number,
): "retry" | "gave_up" {
  const v = archive.videos[index];
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
export function webhookReleaseAt(archive: VideoArchive | undefined): number {
  return archiveSettled(archive) ? 0 : archive!.started_at + WEBHOOK_ARCHIVE_WAIT_MS;
}
