import { compositeKey } from "./composite-key";
import type { Micros } from "./money";
import { periodWindow } from "./periods";
import { PERIODS, type Period } from "./tenant";

/** Who a budget applies to: the whole tenant, one API key, or one end user. */
export type Scope = "tenant" | "key" | "end_user";

/** A cap that applies to one request: the tenant's (always), its key's and its end user's (when configured). */
export interface ScopeBudget {
  scope: Scope;
  subject: string;
  limit_micros: Micros;
  period: Period;
}

/** A budget and where it stands in its current window. */
export interface ScopeState {
  scope: Scope;
  subject: string;
  period: Period;
  limit_micros: Micros;
  spent_micros: Micros;
  reserved_micros: Micros;
  /** limit − spent − reserved (spent net of credits, so a credit beyond the spend adds to it), never below 0. */
  remaining_micros: Micros;
  /** ISO instant the window resets; null for `total`. */
  resets_at: string | null;
}

/** What the app asks of the ledger before forwarding a billable request. */
export interface ReserveRequest {
  taskId: string;
  keyId: string;
  endUser: string | null;
  model: string;
  /** The tenant's price held (RunAPI's cost with the operator's markup). */
  amountMicros: Micros;
  /** RunAPI's cost of that amount (the operator's side of the margin); the amount itself when unset. */
  costMicros?: Micros;
  /** The clock, injected (ms since epoch). */
  now: number;
  /** Every scope that applies: tenant always; key and end_user when configured. */
  budgets: ScopeBudget[];
  /** Unfinished tasks (open reservations) of the tenant. */
  maxConcurrentTasks: number | null;
  /** Per key, fixed 60 s window; counts reservations made. */
  requestsPerMinute: number | null;
  /** Per end user of a publishable key (its visitor), fixed 60 s window; exact, in the same transaction. */
  endUserRequestsPerMinute?: number | null;
  /** Percent thresholds at which the tenant's webhook hears of a scope's spend (none without a webhook). */
  alertThresholds?: readonly number[];
  /**
   * The Idempotency-Key already scoped to the credential that sent it (see `idempotencyScope`); `derived` when the
   * client sent none and the proxy derived one from the request (a short window, see DERIVED_KEY_TTL_MS).
   */
  idempotency: { key: string; bodyHash: string; derived?: boolean } | null;
}

/** The answer to a reservation: held, or the first reason it was refused. */
export type ReserveResult =
  | { ok: true; budgets: ScopeState[]; upstreamRefs?: Record<string, string> }
  | { ok: false; code: "budget_exceeded"; scope: ScopeState & { required_micros: Micros } }
  | { ok: false; code: "tenant_disabled" }
  | {
      ok: false;
      code: "rate_limited";
      limit: "max_concurrent_tasks" | "requests_per_minute" | "end_user_requests_per_minute" | "upstream_capacity";
      retryAfterSeconds: number;
    }
  | { ok: false; code: "key_revoked" }
  | { ok: false; code: "idempotent_replay"; taskId: string }
  | { ok: false; code: "idempotency_conflict" };

/** Kinds of ledger entries. */
export type EntryType = "reserve" | "settle" | "release" | "adjust";

/**
 * One append-only ledger entry, for billing export. Effects on the buckets it touches:
 * reserve: reserved += amount · settle: reserved −= reserved_micros, spent += amount ·
 * release: reserved −= reserved_micros (amount 0) · adjust: spent −= amount (positive = credit).
 */
export interface LedgerEntry {
  id: number;
  at: string;
  /** The budget window the entry counts in: when its reservation was made (settle, release), else `at`. */
  booked_at: string;
  type: EntryType;
  task_id: string | null;
  key_id: string | null;
  end_user: string | null;
  model: string | null;
  amount_micros: Micros;
  reserved_micros: Micros;
  /** RunAPI's cost behind the amount (reserve: estimated; settle: actual); null on entries made before it was recorded. */
  cost_micros: Micros | null;
  reason: string | null;
}

/** The running totals of one scope, subject and period window. */
export type BucketKey = {
  scope: Scope;
  subject: string;
  period: Period;
  window_start: number;
};

/** Running totals of a bucket. */
export type BucketTotals = {
  spent_micros: Micros;
  reserved_micros: Micros;
};

/** The tenant scope's subject in storage: the object holds one tenant, so its name adds nothing. */
export const TENANT_SUBJECT = "*";

/** The storage subject of a budget's scope (tenant budgets share one subject whatever the caller calls it). */
export function storageSubject(scope: Scope, subject: string): string {
  return scope === "tenant" ? TENANT_SUBJECT : subject;
}

/** A stable string for a bucket, to use as a map key. */
export function bucketId(b: BucketKey): string {
  return compositeKey(b.scope, b.subject, b.period, b.window_start);
}

/** One scope's subject: the tenant (`TENANT_SUBJECT`), a key, or an end user. */
export type Subject = { scope: Scope; subject: string };

/** Who a reservation or an entry is for, as stored: its key, the key whose budget it shares (a rotated key's chain), its end user. */
export type Who = { key_id: string | null; key_subject: string | null; end_user: string | null };

/**
 * The subjects whose buckets an entry moves: the tenant always, then its key, the key budget it counts against when
 * that is another key's (a rotated key shares its chain's), and its end user. An adjustment (no key) moves the tenant's only.
 */
export function entrySubjects(who: Who): Subject[] {
  const out: Subject[] = [{ scope: "tenant", subject: TENANT_SUBJECT }];
  if (who.key_id !== null) out.push({ scope: "key", subject: who.key_id });
  if (who.key_subject !== null && who.key_subject !== who.key_id) out.push({ scope: "key", subject: who.key_subject });
  if (who.end_user !== null) out.push({ scope: "end_user", subject: who.end_user });
  return out;
}

/** The key budget a request counts against, stored beside its key only when it is another key's (a rotated key's chain); else null. */
export function keySubjectOf(req: Pick<ReserveRequest, "keyId" | "budgets">): string | null {
  const subject = req.budgets.find((b) => b.scope === "key")?.subject;
  return subject !== undefined && subject !== req.keyId ? subject : null;
}

/** The bucket of `subject`'s `period` window that contains `at`. */
export function bucketAt(subject: Subject, period: Period, at: number): BucketKey {
  return { scope: subject.scope, subject: subject.subject, period, window_start: periodWindow(period, at).start };
}

/** How an entry moves the totals of the buckets it counts in (see `LedgerEntry`). */
export function entryEffect(e: { type: EntryType; amount_micros: Micros; reserved_micros: Micros }): BucketTotals {
  switch (e.type) {
    case "reserve":
      return { spent_micros: 0, reserved_micros: e.amount_micros };
    case "settle":
      return { spent_micros: e.amount_micros, reserved_micros: -e.reserved_micros };
    case "release":
      return { spent_micros: 0, reserved_micros: -e.reserved_micros };
    case "adjust":
      return { spent_micros: -e.amount_micros, reserved_micros: 0 };
  }
}

/** The bucket a budget is checked against at `now`. */
export function budgetBucket(budget: ScopeBudget, now: number): BucketKey {
  return {
    scope: budget.scope,
    subject: storageSubject(budget.scope, budget.subject),
    period: budget.period,
    window_start: periodWindow(budget.period, now).start,
  };
}

/**
 * A budget's state from its bucket's totals at `now`. An operator's credit lowers the bucket's spend and
 * can take it below zero: spent then reads 0 (spend is never negative), and the rest of the credit shows
 * as remaining beyond the limit, which is what it buys.
 */
export function scopeState(budget: ScopeBudget, totals: BucketTotals, now: number): ScopeState {
  const { resetsAt } = periodWindow(budget.period, now);
  return {
    scope: budget.scope,
    subject: budget.subject,
    period: budget.period,
    limit_micros: budget.limit_micros,
    spent_micros: Math.max(0, totals.spent_micros),
    reserved_micros: totals.reserved_micros,
    remaining_micros: Math.max(0, budget.limit_micros - totals.spent_micros - totals.reserved_micros),
    resets_at: resetsAt === null ? null : new Date(resetsAt).toISOString(),
  };
}

/**
 * The first budget (in the given order) that `amount` more would exceed, or null when it fits
 * them all. A request fits when spent + reserved + amount ≤ limit.
 */
export function firstExceeded(
  budgets: ScopeBudget[],
  totalsOf: (bucket: BucketKey, index: number) => BucketTotals,
  amount: Micros,
  now: number,
): (ScopeState & { required_micros: Micros }) | null {
  for (const [i, budget] of budgets.entries()) {
    const totals = totalsOf(budgetBucket(budget, now), i);
    if (totals.spent_micros + totals.reserved_micros + amount > budget.limit_micros) {
      return { ...scopeState(budget, totals, now), required_micros: amount };
    }
  }
  return null;
}

/** Throws unless `value` is an integer amount of micros (optionally ≥ 0). */
export function assertMicros(name: string, value: number, opts: { nonNegative: boolean }): void {
  if (!Number.isSafeInteger(value) || (opts.nonNegative && value < 0)) {
    throw new RangeError(`${name} must be a ${opts.nonNegative ? "non-negative " : ""}integer number of micro-dollars`);
  }
}

/** Throws unless every budget is well formed (known scope and period, integer limit ≥ 0). */
export function assertBudgets(budgets: ScopeBudget[]): void {
  for (const b of budgets) {
    if (b.scope !== "tenant" && b.scope !== "key" && b.scope !== "end_user") throw new RangeError(`unknown scope: ${String(b.scope)}`);
    if (!PERIODS.includes(b.period)) throw new RangeError(`unknown period: ${String(b.period)}`);
    if (typeof b.subject !== "string") throw new RangeError("budget subject must be a string");
    assertMicros("limit_micros", b.limit_micros, { nonNegative: true });
  }
}
