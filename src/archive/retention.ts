/** Retention: archived files older than VIDEO_RETENTION_DAYS are deleted from R2 by a scheduled sweep. */

/** What one sweep did. */
export interface SweepResult {
  scanned: number;
  deleted: number;
  deleted_bytes: number;
  /** Set when the sweep stopped at its page budget; the next run picks up from the start again. */
  more: boolean;
}

const PAGE = 1000;
/** List pages per prefix and run: 100 000 objects; a bigger archive is finished by the next day's run. */
const MAX_PAGES = 100;

/** When an archived object was stored: its `stored_at` metadata (the proxy's clock), else R2's upload time. */
export function storedAt(object: Pick<R2Object, "customMetadata" | "uploaded">): number {
  const meta = Date.parse(object.customMetadata?.stored_at ?? "");
  return Number.isFinite(meta) ? meta : object.uploaded.getTime();
}

/** Where the archive keeps files: `media/` (every modality), and `videos/` (archives made when only videos were archived). */
export const ARCHIVE_PREFIXES = ["media/", "videos/"] as const;

/**
 * Deletes every archived object (under each of `ARCHIVE_PREFIXES`, or `prefix` alone) stored at or before
 * `now - retentionMs`. Safe to run twice, or beside an R2 lifecycle rule doing the same.
 */
export async function sweepExpiredFiles(bucket: R2Bucket, opts: { now: number; retentionMs: number; prefix?: string }): Promise<SweepResult> {
  const out: SweepResult = { scanned: 0, deleted: 0, deleted_bytes: 0, more: false };
  for (const prefix of opts.prefix ? [opts.prefix] : ARCHIVE_PREFIXES) {
    const one = await sweepPrefix(bucket, prefix, opts.now - opts.retentionMs);
    out.scanned += one.scanned;
    out.deleted += one.deleted;
    out.deleted_bytes += one.deleted_bytes;
    out.more ||= one.more;
  }
  return out;
}

async function sweepPrefix(bucket: R2Bucket, prefix: string, cutoff: number): Promise<SweepResult> {
  const out: SweepResult = { scanned: 0, deleted: 0, deleted_bytes: 0, more: false };
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    // customMetadata (stored_at) is listed only when asked for; the bundled types predate `include`.
    const options = { prefix, limit: PAGE, cursor, include: ["customMetadata"] };
    const listed = await bucket.list(options as R2ListOptions);
    const old = listed.objects.filter((o) => storedAt(o) <= cutoff);
    out.scanned += listed.objects.length;
    if (old.length) {
      await bucket.delete(old.map((o) => o.key));
      out.deleted += old.length;
      out.deleted_bytes += old.reduce((sum, o) => sum + o.size, 0);
    }
    if (!listed.truncated) return out;
    cursor = listed.cursor;
  }
  out.more = true;
  return out;
}
