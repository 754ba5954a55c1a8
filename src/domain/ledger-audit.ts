import { bucketAt, bucketId, entryEffect, entrySubjects, type BucketKey, type BucketTotals, type EntryType, type Who } from "./ledger";
import type { Micros } from "./money";
import { PERIODS } from "./tenant";

/** The fields of a stored entry that move bucket totals. */
export interface AuditEntry extends Who {
  type: EntryType;
  booked_at: number;
  amount_micros: Micros;
  reserved_micros: Micros;
}

/** An open reservation: what it holds, for whom, booked when. */
export interface AuditReservation extends Who {
  amount_micros: Micros;
  created_at: number;
}

/** The result of re-adding the ledger from its entries. */
export interface AuditResult {
  ok: boolean;
  buckets: number;
  entries: number;
  open_reservations: number;
  mismatches: string[];
}

function add(map: Map<string, BucketTotals>, key: string, t: BucketTotals): void {
  const was = map.get(key) ?? { spent_micros: 0, reserved_micros: 0 };
  map.set(key, { spent_micros: was.spent_micros + t.spent_micros, reserved_micros: was.reserved_micros + t.reserved_micros });
}

/**
 * Re-adds every entry into the windows of every subject it counts for, and compares with the buckets kept:
 * each kept bucket's spent and reserved must equal what its entries add up to (for `total`, with `rollup`:
 * the sums of entries that moved out to the archive, per subject), and its reserved must equal the open
 * reservations made in its window. Buckets are kept only where a budget or a report asked (see BucketStore).
 */
export function auditTotals(
  entries: AuditEntry[],
  open: AuditReservation[],
  kept: (BucketKey & BucketTotals)[],
  rollup: Map<string, BucketTotals>,
): AuditResult {
  const mismatches: string[] = [];
  const fromEntries = new Map<string, BucketTotals>();
  const heldByOpen = new Map<string, BucketTotals>();
  for (const e of entries) {
    for (const s of entrySubjects(e)) for (const p of PERIODS) add(fromEntries, bucketId(bucketAt(s, p, e.booked_at)), entryEffect(e));
  }
  for (const r of open) {
    for (const s of entrySubjects(r))
      for (const p of PERIODS) add(heldByOpen, bucketId(bucketAt(s, p, r.created_at)), { spent_micros: 0, reserved_micros: r.amount_micros });
  }
  for (const b of kept) {
    const id = bucketId(b);
    const e = fromEntries.get(id) ?? { spent_micros: 0, reserved_micros: 0 };
    const moved =
      b.period === "total" ? (rollup.get(`${b.scope}|${b.subject}`) ?? { spent_micros: 0, reserved_micros: 0 }) : { spent_micros: 0, reserved_micros: 0 };
    const spent = e.spent_micros + moved.spent_micros;
    const reserved = e.reserved_micros + moved.reserved_micros;
    const held = heldByOpen.get(id)?.reserved_micros ?? 0;
    if (b.spent_micros !== spent) mismatches.push(`${id}: spent ${b.spent_micros} ≠ entries ${spent}`);
    if (b.reserved_micros !== reserved) mismatches.push(`${id}: reserved ${b.reserved_micros} ≠ entries ${reserved}`);
    if (b.reserved_micros !== held) mismatches.push(`${id}: reserved ${b.reserved_micros} ≠ open reservations ${held}`);
  }
  return { ok: mismatches.length === 0, buckets: kept.length, entries: entries.length, open_reservations: open.length, mismatches };
}
