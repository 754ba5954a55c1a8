import { formatUsd, microsToUsd } from "../domain/money";
import type { ReserveResult } from "../domain/ledger";
import { type AuthContext, isBackend, modelRefusedBy } from "../domain/tenant";
import { AppError } from "./errors";

const PERIOD_WORDS = { day: " today", week: " this week", month: " this month", total: "" } as const;

/** USD for messages: at least cents, more digits only when they matter ($0.30, $0.125). */
function shortUsd(micros: number): string {
  return formatUsd(micros).replace(/(\.\d\d\d*?)0+$/, "$1");
}

const RATE_LIMIT_WORDS = {
  max_concurrent_tasks: "Too many unfinished tasks for this tenant",
  requests_per_minute: "Too many requests per minute for this key",
  end_user_requests_per_minute: "Too many requests per minute from you",
  upstream_capacity: "RunAPI's capacity is in use: this tenant has its share of it running (send `Prefer: respond-async, queue` to queue the task instead)",
} as const;

type Refused = Exclude<ReserveResult, { ok: true } | { code: "idempotent_replay" }>;

/** The error a refused reservation answers with: 402, 429, 401, 403 or 409. */
export function refusal(result: Refused, requiredUsd: number, backend: boolean): AppError {
  switch (result.code) {
    case "budget_exceeded": {
      const s = result.scope;
      // A browser-side caller learns which budget stopped it, but not the tenant's figures.
      if (!backend && s.scope === "tenant") {
        return new AppError("budget_exceeded", "This request would exceed the tenant's budget", { scope: s.scope, required_usd: requiredUsd });
      }
      return new AppError(
        "budget_exceeded",
        `This request needs $${shortUsd(s.required_micros)} but the ${s.scope.replace("_", "-")} budget has $${shortUsd(Math.max(0, s.remaining_micros))} left${PERIOD_WORDS[s.period]}`,
        {
          scope: s.scope,
          period: s.period,
          limit_usd: microsToUsd(s.limit_micros),
          spent_usd: microsToUsd(s.spent_micros),
          reserved_usd: microsToUsd(s.reserved_micros),
          required_usd: requiredUsd,
          remaining_usd: microsToUsd(s.remaining_micros),
          resets_at: s.resets_at,
        },
      );
    }
    case "rate_limited": {
      const what = RATE_LIMIT_WORDS[result.limit];
      return new AppError(
        "rate_limited",
        `${what}; retry after ${result.retryAfterSeconds} s`,
        {
          limit: result.limit,
          retry_after_seconds: result.retryAfterSeconds,
          ...(result.limit === "upstream_capacity" ? { reason: "upstream_capacity" } : {}),
        },
        { "Retry-After": String(result.retryAfterSeconds) },
      );
    }
    case "key_revoked":
      return new AppError("unauthorized", "This API key has been revoked or has expired");
    case "tenant_disabled":
      return new AppError("forbidden", "This tenant is disabled");
    case "idempotency_conflict":
      return new AppError("idempotency_conflict", "This Idempotency-Key was already used with a different request body");
  }
}

/**
 * Refuses a model the caller may not use: the tenant's or the key's `allowed_models` (models, services or `service/action`)
 * leave it out. `what` names it in the message. A browser-side caller learns neither list, nor which of the two refused it.
 */
export function assertModelAllowed(auth: AuthContext, target: { service: string; action: string; model: string | null }, what: string): void {
  const refusedBy = modelRefusedBy(auth, target);
  if (!refusedBy) return;
  if (!isBackend(auth)) throw new AppError("forbidden", `Model ${what} is not available with this key`);
  if (refusedBy === "tenant") throw new AppError("forbidden", `Model ${what} is not allowed for this tenant`, { allowed_models: auth.tenant.allowed_models });
  throw new AppError("forbidden", `Model ${what} is not enabled for this key`, { key_allowed_models: auth.key.allowed_models });
}
