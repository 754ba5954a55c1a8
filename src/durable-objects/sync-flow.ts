import { upstreamBody } from "../catalog/request";
import { formatUsd, centsToMicros, microsToUsd } from "../domain/money";
import { withMarkup } from "../domain/markup";
import type { ScopeState } from "../domain/ledger";
import type { Bindings, Config } from "../env";
import { AppError, invalidRequest } from "../lib/errors";
import { log } from "../lib/log";
import { refusal } from "../lib/refusal";
import { ledgerStub } from "../lib/stubs";
import { refusedByRunApi, RunApiClient } from "../upstream/runapi";
import type { CreateInput } from "./create-flow";
import { timeOrderedUuid } from "../lib/crypto";

/** A synchronous action's answer: RunAPI's body, the proxy's headers, and the budgets after the hold. */
export interface SyncAnswer {
  body: Record<string, unknown>;
  headers: Record<string, string>;
  budgets: ScopeState[];
}

/** A reported cost above this is not believed (the estimate is charged). */
const MAX_COST_CENTS = 1_000_000;

/**
 * A synchronous action (SPEC §12), start to end: hold the price in the tenant's object (one call, which
 * also swaps task references for RunAPI's ids), call RunAPI once, settle at RunAPI's reported cost (with
 * markup, capped at the hold) or the estimate. RunAPI refusing it (4xx, or 5xx saying why) frees the hold; an
 * answer lost or unreadable after the call was sent is charged the hold, since RunAPI may have done the work
 * (`X-Charge-Basis: reservation`). A hold this Worker loses is charged by the object's alarm.
 */
export async function syncCall(
  env: Bindings,
  config: Config,
  waitUntil: (p: Promise<unknown>) => void,
  input: Omit<CreateInput, "idempotency" | "notifyUrl" | "origin" | "capacity">,
  requestId: string,
): Promise<SyncAnswer> {
  const id = timeOrderedUuid();
  const ledger = ledgerStub(env, input.tenantId);
  const refs = Object.keys(input.references).length ? { references: input.references, viewer: input.viewer } : undefined;
  const held = await ledger
    .reserve(
      {
        taskId: id,
        keyId: input.keyId,
        endUser: input.endUser,
        model: input.request.model ?? input.request.action,
        amountMicros: input.price.micros,
        costMicros: input.price.costMicros,
        now: Date.now(),
        budgets: input.budgets,
        maxConcurrentTasks: null, // answered in the request: no task slot
        requestsPerMinute: input.limits.requestsPerMinute,
        endUserRequestsPerMinute: input.limits.endUserRequestsPerMinute,
        alertThresholds: input.alertThresholds,
        idempotency: null,
      },
      refs,
    )
    .catch(async () => {
      await ledger.release(id, Date.now(), "not forwarded: the reservation's answer was lost").catch(() => undefined);
      throw new AppError("service_unavailable", "The budget could not be checked; nothing was sent to RunAPI. Retry shortly.", undefined, {
        "Retry-After": "1",
      });
    });
  if (!held.ok) {
    if (held.code === "invalid_reference")
      throw invalidRequest([{ field: held.field, message: "must be the id of one of your own tasks that RunAPI accepted" }]);
    if (held.code === "idempotent_replay") throw new AppError("internal_error", "Unexpected idempotent replay for a synchronous action");
    throw refusal(held, microsToUsd(input.price.micros), input.backend);
  }
  const headers: Record<string, string> = {};

  const body = { ...upstreamBody(input.request, input.route.sendsModel), ...(held.upstreamRefs ?? {}) };
  let answer: Record<string, unknown>;
  try {
    answer = await new RunApiClient(config, env.RUNAPI).callSync(input.route.path, body, id);
  } catch (err) {
    if (!refusedByRunApi(err)) {
      // RunAPI may have done the work: the hold is charged, and the client is told on what basis.
      const charge = input.price.micros;
      waitUntil(
        ledger
          .settle(id, charge, Date.now(), "synchronous answer lost after the call was sent: charged the amount reserved", input.price.costMicros)
          .catch((e: unknown) => log.error("sync_settle_failed", { request_id: requestId, error: e instanceof Error ? e.name : "unknown" })),
      );
      const error = err instanceof AppError ? err : new AppError("upstream_error", "RunAPI's answer was lost");
      throw new AppError(error.code, error.message, error.details, { ...error.headers, "X-Charge-Basis": "reservation", "X-Charged-Usd": formatUsd(charge) });
    }
    await ledger
      .release(id, Date.now(), err instanceof AppError ? `synchronous action refused: ${err.code}` : "synchronous action failed")
      .catch(() => undefined);
    throw err;
  }

  const reported = answer.cost_cents;
  const cost = typeof reported === "number" && Number.isFinite(reported) && reported >= 0 && reported <= MAX_COST_CENTS ? centsToMicros(reported) : undefined;
  const charge = cost === undefined ? input.price.micros : Math.min(withMarkup(cost, input.price.markupPercent), input.price.micros);
  waitUntil(
    ledger
      .settle(id, charge, Date.now(), `${input.request.service} ${input.request.action}${cost === undefined ? "" : " at RunAPI's reported cost"}`, cost)
      .catch((e: unknown) => log.error("sync_settle_failed", { request_id: requestId, error: e instanceof Error ? e.name : "unknown" })),
  );
  headers["X-Charged-Usd"] = formatUsd(charge);
  return { body: answer, headers, budgets: held.budgets };
}
