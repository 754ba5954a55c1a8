import { RPM_WINDOW_MS, rpmDecision, type RpmWindow } from "../domain/ledger-limits";

/** Windows kept before the passed ones are swept at once (a key's, and each visitor's of a publishable key). */
const MAX_WINDOWS = 10_000;

/**
 * The current per-minute window of each key and visitor under a limit (SPEC §4), in the tenant object's memory: the
 * object is their only counter, so memory is exact while it runs, and a window is a minute long. Writing them cost two
 * SQLite rows per request; after a restart of the object (rare, never caused by a client) the windows start over.
 */
export class RateWindows {
  private readonly windows = new Map<string, RpmWindow>();

  /** Whether one more request of `key` fits `limit` at `now`, or how long until it does. */
  check(key: string, limit: number, now: number): ReturnType<typeof rpmDecision> {
    return rpmDecision(this.windows.get(key) ?? null, limit, now);
  }

  /** Counts one request of `key` at `now`. */
  count(key: string, now: number): void {
    const rpm = rpmDecision(this.windows.get(key) ?? null, null, now);
    if (!rpm.ok) return;
    if (this.windows.size >= MAX_WINDOWS && !this.windows.has(key)) this.forget(now);
    this.windows.set(key, rpm.next);
  }

  /** Drops the windows that have passed. */
  forget(now: number): void {
    for (const [key, w] of this.windows) if (w.window_start <= now - RPM_WINDOW_MS) this.windows.delete(key);
  }
}
