import { keyBudgetSubject, type AuthContext } from "./tenant";
import type { ScopeBudget, ScopeState } from "./ledger";
import { microsToUsd } from "./money";

/** Every budget scope that applies to a request: the tenant always, the key and the end user when configured. */
export function budgetsFor(auth: AuthContext): ScopeBudget[] {
  const budgets: ScopeBudget[] = [{ scope: "tenant", subject: auth.tenant.id, ...auth.tenant.budget }];
  if (auth.key.budget) budgets.push({ scope: "key", subject: keyBudgetSubject(auth.key), ...auth.key.budget });
  if (auth.tenant.end_user_budget && auth.endUser) budgets.push({ scope: "end_user", subject: auth.endUser, ...auth.tenant.end_user_budget });
  return budgets;
}

/** A scope's state as the API shows it, in USD. */
export function scopeJson(s: ScopeState) {
  return {
    scope: s.scope,
    subject: s.subject,
    period: s.period,
    limit_usd: microsToUsd(s.limit_micros),
    spent_usd: microsToUsd(s.spent_micros),
    reserved_usd: microsToUsd(s.reserved_micros),
    remaining_usd: microsToUsd(s.remaining_micros),
    resets_at: s.resets_at,
  };
}
