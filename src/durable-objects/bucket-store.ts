import { bucketAt, entrySubjects, type BucketKey, type BucketTotals, type Subject, type Who } from "../domain/ledger";
import { periodWindow } from "../domain/periods";
import type { Period } from "../domain/tenant";

/** Callers' clocks may run this far ahead of the object's: a window starting later than tracking began + this had no entries before. */
const CLOCK_MARGIN_MS = 10 * 60_000;
const ZERO: BucketTotals = { spent_micros: 0, reserved_micros: 0 };

/** The hot queries of this store, named for the query-plan test. */
export const BUCKET_SQL = {
  totals: "SELECT spent_micros, reserved_micros FROM buckets WHERE scope = ? AND subject = ? AND period = ? AND window_start = ?",
  tracked: "SELECT scope, subject, period, since FROM tracked WHERE scope = ? AND subject = ?",
  add: `INSERT INTO buckets (scope, subject, period, window_start, spent_micros, reserved_micros) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET spent_micros = spent_micros + excluded.spent_micros, reserved_micros = reserved_micros + excluded.reserved_micros`,
  update: `UPDATE buckets SET spent_micros = spent_micros + ?, reserved_micros = reserved_micros + ?
    WHERE scope = ? AND subject = ? AND period = ? AND window_start = ?`,
} as const;

type Tracked = Subject & { period: Period; since: number };

/** The tracked periods of `n` subjects, in one look-up (a hot query: see the query-plan test). */
export function trackedOfSql(n: number): string {
  return `SELECT scope, subject, period, since FROM tracked WHERE (scope, subject) IN (VALUES ${new Array(n).fill("(?, ?)").join(", ")})`;
}

/**
 * A tenant's running totals, kept only for the scope × subject × period that a budget or a usage report has
 * asked about (`tracked`): a chat under one tenant budget moves one bucket, not every period of every scope.
 * The entries are the truth. A bucket is made from them when first asked for; from then on every entry of its
 * subject moves it, and a later window of a tracked subject starts at zero, except for windows that entries
 * may have reached before tracking began (those are made from the entries too). Synchronous, inside the
 * caller's transaction.
 */
export class BucketStore {
  /** Windows that started before this have moved out with their entries (see LedgerHistory): not made again. */
  historyCutoff = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly now: () => number,
  ) {}

  /** A budget's bucket totals; tracks its subject and period from now on (made from the entries when first asked). */
  totals(b: BucketKey): BucketTotals {
    const row = this.sql.exec<BucketTotals>(BUCKET_SQL.totals, b.scope, b.subject, b.period, b.window_start).toArray()[0];
    if (row) return row;
    if (b.window_start < this.historyCutoff && b.period !== "total") return this.fromEntries(b).totals; // a window gone by: read only
    const tracked = this.tracked(b).find((t) => t.period === b.period);
    if (tracked && b.window_start > tracked.since) return ZERO; // no entry of its subject was booked in it yet
    const made = this.fromEntries(b);
    this.sql.exec(BUCKET_SQL.add, b.scope, b.subject, b.period, b.window_start, made.totals.spent_micros, made.totals.reserved_micros);
    if (!tracked) {
      this.sql.exec(
        "INSERT INTO tracked (scope, subject, period, since) VALUES (?, ?, ?, ?)",
        b.scope,
        b.subject,
        b.period,
        Math.max(this.now() + CLOCK_MARGIN_MS, made.lastBooked ?? 0),
      );
    }
    return made.totals;
  }

  /** Moves the tracked buckets of every subject an entry counts for, in the windows that contain `bookedAt`. Call after appending the entry. */
  apply(who: Who, bookedAt: number, delta: BucketTotals): void {
    const subjects = entrySubjects(who);
    // One look-up for every subject (up to four: tenant, key, the key's budget chain, end user).
    const tracked = this.sql.exec<Tracked>(trackedOfSql(subjects.length), ...subjects.flatMap((s) => [s.scope, s.subject])).toArray();
    for (const subject of subjects) {
      for (const t of tracked.filter((x) => x.scope === subject.scope && x.subject === subject.subject)) {
        const b = bucketAt(subject, t.period, bookedAt);
        if (b.period !== "total" && b.window_start < this.historyCutoff) continue; // a window gone by keeps no bucket
        if (b.window_start > t.since) {
          this.sql.exec(BUCKET_SQL.add, b.scope, b.subject, b.period, b.window_start, delta.spent_micros, delta.reserved_micros);
          continue;
        }
        const moved = this.sql.exec(BUCKET_SQL.update, delta.spent_micros, delta.reserved_micros, b.scope, b.subject, b.period, b.window_start).rowsWritten;
        // A window begun before tracking, with no bucket yet: made from the entries (this one included).
        if (moved === 0) this.totals(b);
      }
    }
  }

  /** Forgets the buckets of windows that began before `cutoff` (their entries are moving out); `total` stays. */
  forgetBefore(cutoff: number): void {
    this.historyCutoff = cutoff;
    this.sql.exec("DELETE FROM buckets WHERE period != 'total' AND window_start < ?", cutoff);
  }

  /** Every bucket kept (for the audit). */
  all(): (BucketKey & BucketTotals)[] {
    return this.sql.exec<BucketKey & BucketTotals>("SELECT * FROM buckets").toArray();
  }

  private tracked(s: Subject): Tracked[] {
    return this.sql.exec<Tracked>(BUCKET_SQL.tracked, s.scope, s.subject).toArray();
  }

  /** A bucket's totals from the entries (and, for `total`, what moved out), and the latest time any entry of its subject was booked. */
  private fromEntries(b: BucketKey): { totals: BucketTotals; lastBooked: number | null } {
    const { start, resetsAt } = periodWindow(b.period, b.window_start);
    const [where, args] =
      b.scope === "tenant" ? ["1", []] : b.scope === "key" ? ["(key_id = ? OR key_subject = ?)", [b.subject, b.subject]] : ["end_user = ?", [b.subject]];
    const end = resetsAt ?? Number.MAX_SAFE_INTEGER;
    const row = this.sql
      .exec<BucketTotals & { last: number | null }>(
        `SELECT
           COALESCE(SUM(CASE WHEN booked_at < ? OR booked_at >= ? THEN 0 WHEN type = 'settle' THEN amount_micros WHEN type = 'adjust' THEN -amount_micros ELSE 0 END), 0) AS spent_micros,
           COALESCE(SUM(CASE WHEN booked_at < ? OR booked_at >= ? THEN 0 WHEN type = 'reserve' THEN amount_micros WHEN type IN ('settle', 'release') THEN -reserved_micros ELSE 0 END), 0) AS reserved_micros,
           MAX(booked_at) AS last
         FROM entries WHERE ${where}`,
        start,
        end,
        start,
        end,
        ...args,
      )
      .one();
    const moved =
      b.period === "total"
        ? (this.sql
            .exec<BucketTotals>("SELECT spent_micros, reserved_micros FROM ledger_rollup WHERE scope = ? AND subject = ?", b.scope, b.subject)
            .toArray()[0] ?? ZERO)
        : ZERO;
    return {
      totals: { spent_micros: row.spent_micros + moved.spent_micros, reserved_micros: row.reserved_micros + moved.reserved_micros },
      lastBooked: row.last,
    };
  }
}
