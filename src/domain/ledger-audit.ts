import { adjustmentBuckets, bucketId, type BucketKey, type BucketTotals, type EntryType } from "./ledger";
import type { Micros } from "./money";

/** The fields of a stored entry that move bucket totals. */
export interface AuditEntry {
  type: EntryType;
  task_id: string | null;
  at: number;
  amount_micros: Micros;
  reserved_micros: Micros;
}

/** An open reservation: what it holds and where. */
export interface AuditReservation {
  amount_micros: Micros;
  buckets: BucketKey[];
}

/** The result of re-adding the ledger from its entries. */
export interface AuditResult {
  ok: boolean;
  buckets: number;
  entries: number;
  open_reservations: number;
  mismatches: string[];
}

function add(map: Map<string, BucketTotals>, key: string, spent: Micros, reserved: Micros): void {
  const t = map.get(key) ?? { spent_micros: 0, reserved_micros: 0 };
  map.set(key, { spent_micros: t.spent_micros + spent, reserved_micros: t.reserved_micros + reserved });
}

/**
 * Re-adds every entry into the buckets it touched and compares with the running totals:
 * each bucket's spent and reserved must equal what its entries add up to, and its reserved
 * must equal the sum of the open reservations that hold it. `bucketsOf` gives a task's buckets.
 */
export function auditTotals(
  entries: AuditEntry[],
  bucketsOf: (taskId: string) => BucketKey[] | null,
  open: AuditReservation[],
  actual: Map<string, BucketTotals>,
): AuditResult {
  const mismatches: string[] = [];
  const fromEntries = new Map<string, BucketTotals>();
  for (const e of entries) {
    const keys = e.type === "adjust" ? adjustmentBuckets(e.at) : e.task_id === null ? null : bucketsOf(e.task_id);
    if (!keys) {
      mismatches.push(`${e.type} entry for task ${String(e.task_id)} has no reservation`);
      continue;
    }
    for (const k of keys) {
      const id = bucketId(k);
      if (e.type === "reserve") add(fromEntries, id, 0, e.amount_micros);
      else if (e.type === "settle") add(fromEntries, id, e.amount_micros, -e.reserved_micros);
      else if (e.type === "release") add(fromEntries, id, 0, -e.reserved_micros);
      else add(fromEntries, id, -e.amount_micros, 0);
    }
  }
  const heldByOpen = new Map<string, BucketTotals>();
  for (const r of open) for (const k of r.buckets) add(heldByOpen, bucketId(k), 0, r.amount_micros);

  const ids = new Set([...actual.keys(), ...fromEntries.keys()]);
  for (const id of ids) {
    const a = actual.get(id) ?? { spent_micros: 0, reserved_micros: 0 };
    const e = fromEntries.get(id) ?? { spent_micros: 0, reserved_micros: 0 };
    const held = heldByOpen.get(id)?.reserved_micros ?? 0;
    if (a.spent_micros !== e.spent_micros) mismatches.push(`${id}: spent ${a.spent_micros} ≠ entries ${e.spent_micros}`);
    if (a.reserved_micros !== e.reserved_micros) mismatches.push(`${id}: reserved ${a.reserved_micros} ≠ entries ${e.reserved_micros}`);
    if (a.reserved_micros !== held) mismatches.push(`${id}: reserved ${a.reserved_micros} ≠ open reservations ${held}`);
  }
  return { ok: mismatches.length === 0, buckets: actual.size, entries: entries.length, open_reservations: open.length, mismatches };
}
