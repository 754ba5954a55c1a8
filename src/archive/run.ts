import { copyFile, type CopyOutcome } from "./copy";
import type { Fetcher, SourcePolicy } from "./source";
import { dueFiles, recordFailure, recordStored, type MediaArchive } from "../domain/media-archive";
import { metrics } from "../lib/metrics";

/** What the archive needs from its host object: the bucket, a way to download, the retry base delay, and what it may download. */
export interface ArchiveDeps {
  bucket: R2Bucket;
  fetcher: Fetcher;
  retryBaseMs: number;
  /** Where downloads may go and how large they may be (the deployment's: `sourcePolicy(config)`). */
  policy: SourcePolicy;
}

/** One copy attempt's result, to apply to the host's freshly loaded archive. */
export interface AttemptResult {
  index: number;
  outcome: CopyOutcome;
}

/** A file that just landed in R2 (for the tenant's storage tally). */
export interface StoredFile {
  index: number;
  bytes: number;
  storedAt: number;
}

/**
 * Downloads RunAPI's output URLs through the simulator's service binding when they point at it
 * (tests), through the network otherwise. No credentials go with the download. What may be
 * downloaded at all is `copyFile`'s policy, checked before each hop.
 */
export function sourceFetcher(runapi: Fetcher | undefined, runapiBaseUrl: string): Fetcher {
  const simOrigin = new URL(runapiBaseUrl).origin;
  return {
    fetch: (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      return runapi && url.origin === simOrigin ? runapi.fetch(input, init) : fetch(input, init);
    },
  };
}

/** Copies every due file of a task, one after another (a task has one or a few). */
export async function copyDueFiles(
  deps: ArchiveDeps,
  task: { tenantId: string; keyId: string; taskId: string },
  archive: MediaArchive,
  now: number,
): Promise<AttemptResult[]> {
  const results: AttemptResult[] = [];
  for (const file of dueFiles(archive, now)) {
    const job = { ...task, index: file.index, address: file.address, sourceUrl: file.source_url, now };
    results.push({ index: file.index, outcome: await copyFile(deps.bucket, deps.fetcher, job, deps.policy) });
  }
  return results;
}

/**
 * Applies attempt results to the archive (in place) at `now`: stored, retried later, or given up with
 * one clear log line (the task keeps RunAPI's URL). Returns the files that landed.
 */
export function applyAttempts(archive: MediaArchive, taskId: string, results: AttemptResult[], now: number, retryBaseMs: number): StoredFile[] {
  const stored: StoredFile[] = [];
  for (const { index, outcome } of results) {
    if (outcome.ok) {
      recordStored(archive, index, outcome, now);
      stored.push({ index, bytes: outcome.bytes, storedAt: now });
      continue;
    }
    const file = archive.files[index];
    const next = recordFailure(archive, index, outcome, now, retryBaseMs);
    metrics.archiveFailure(next === "gave_up" ? "gave_up" : "retry");
    const line = { task_id: taskId, file_index: index, attempts: file?.attempts, source_host: hostOf(file?.source_url), reason: outcome.reason };
    if (next === "gave_up") {
      console.warn(
        JSON.stringify({
          level: "warn",
          event: "archive_gave_up",
          ...line,
          message: "The file was not archived; the task keeps RunAPI's URL, which expires in about 7 days",
        }),
      );
    } else {
      console.log(JSON.stringify({ level: "info", event: "archive_retry", ...line, next_attempt_at: new Date(file?.next_at ?? now).toISOString() }));
    }
  }
  return stored;
}

/** The host of a URL, for logs: RunAPI's links may carry signed query strings, which stay out of logs. */
function hostOf(url: string | undefined): string | null {
  try {
    return url ? new URL(url).host : null;
  } catch {
    return null;
  }
}
