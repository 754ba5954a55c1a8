import type { Period } from "./tenant";

/** One budget window: when it began (ms since epoch, UTC) and when it resets (null: never). */
export interface PeriodWindow {
  start: number;
  resetsAt: number | null;
}

/** Milliseconds in one UTC day. */
export const DAY_MS = 86_400_000;

/**
 * The window of `period` that contains the instant `now` (ms): the UTC day, the week
 * starting Monday 00:00 UTC, the calendar month starting on the 1st, or `total`
 * (start 0, never resets). A window includes its start and excludes its reset instant.
 */
export function periodWindow(period: Period, now: number): PeriodWindow {
  if (!Number.isSafeInteger(now) || now < 0) throw new RangeError("now must be a non-negative integer (ms)");
  const day = Math.floor(now / DAY_MS) * DAY_MS;
  switch (period) {
    case "day":
      return { start: day, resetsAt: day + DAY_MS };
    case "week": {
      const sinceMonday = (new Date(day).getUTCDay() + 6) % 7;
      const start = day - sinceMonday * DAY_MS;
      return { start, resetsAt: start + 7 * DAY_MS };
    }
    case "month": {
      const d = new Date(day);
      const y = d.getUTCFullYear();
      const m = d.getUTCMonth();
      return { start: Date.UTC(y, m, 1), resetsAt: Date.UTC(y, m + 1, 1) };
    }
    case "total":
      return { start: 0, resetsAt: null };
    default:
      throw new RangeError(`unknown period: ${String(period satisfies never)}`);
  }
}
