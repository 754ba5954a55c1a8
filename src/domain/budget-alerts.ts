import type { ScopeState } from "./ledger";
import { microsToUsd, type Micros } from "./money";

/** Thresholds (percent of a scope's limit) at which a tenant hears of its spend, unless it sets its own (SPEC §4). */
export const DEFAULT_ALERT_THRESHOLDS = [50, 80, 100] as const;

/**
 * The thresholds that spent + reserved crossed going from `before` to `after` against `limit`,
 * lowest first: a threshold counts once its share of the limit is reached (≥). A limit of 0 has none.
 */
export function crossedThresholds(limit: Micros, before: Micros, after: Micros, thresholds: readonly number[]): number[] {
  if (limit <= 0 || after <= before) return [];
  // Integer arithmetic: used × 100 ≥ threshold × limit.
  const reached = (used: Micros, t: number) => used * 100 >= t * limit;
  return [...thresholds].sort((a, b) => a - b).filter((t) => !reached(before, t) && reached(after, t));
}

/** The body of a `budget.threshold` webhook (SPEC §4). */
export function budgetAlertBody(tenantId: string, state: ScopeState, thresholdPercent: number) {
  return {
    type: "budget.threshold" as const,
    tenant_id: tenantId,
    scope: state.scope,
    subject: state.subject,
    period: state.period,
    threshold_percent: thresholdPercent,
    limit_usd: microsToUsd(state.limit_micros),
    spent_usd: microsToUsd(state.spent_micros),
    reserved_usd: microsToUsd(state.reserved_micros),
    resets_at: state.resets_at,
  };
}
