import { budgetsFor } from "../domain/budgets";
import type { ScopeState } from "../domain/ledger";
import { formatUsd, microsToUsd } from "../domain/money";
import { alertThresholds, endUserRequestsPerMinute, isBackend, taskViewer, type AuthContext } from "../domain/tenant";
import { isUploadId, type UploadKind } from "../domain/uploads";
import type { Bindings } from "../env";
import { AppError } from "../lib/errors";
import { log } from "../lib/log";
import type { Price } from "../lib/pricing";
import { refusal } from "../lib/refusal";
import { ledgerStub } from "../lib/stubs";
import { timeOrderedUuid } from "../lib/crypto";

/** One call of RunAPI's upload endpoints, as a route hands it over. */
export interface UploadCall {
  auth: AuthContext;
  /** The call makes a file (`POST /api/v1/files`, `confirm`, `complete`): its price (0 when uploads are free). */
  price?: Price;
  /** The upload the call goes on with: it must be the caller's. */
  upload?: { kind: UploadKind; id: string };
  /** The answer opens an upload of this kind (`prepare`: its `signed_id`; `/v1/uploads`: its `id`), remembered as the caller's. */
  opens?: UploadKind;
  /** Calls RunAPI (once) and returns its answer. */
  forward: () => Promise<Record<string, unknown>>;
}

/** RunAPI's answer, the proxy's headers, and the budgets after a hold (none for a free call). */
export interface UploadAnswer {
  body: Record<string, unknown>;
  headers: Record<string, string>;
  budgets: ScopeState[];
}

/**
 * One call of RunAPI's upload endpoints (SPEC §12), start to end, like a synchronous action: the tenant's object
 * admits it (the upload it names must be the caller's, a foreign or unknown one is a 404; limits, revocation and
 * suspension apply to every call), holding the price of a file-making call when the schedule prices uploads and
 * otherwise only counting it; RunAPI is called once; the hold is settled at the price when RunAPI made the file and
 * released on any failure (an upload that failed is not charged). An upload RunAPI opened is remembered as the
 * caller's, so no one else may confirm, add to, complete or cancel it.
 */
export async function uploadCall(env: Bindings, waitUntil: (p: Promise<unknown>) => void, call: UploadCall, requestId: string): Promise<UploadAnswer> {
  const { auth } = call;
  const holdId = timeOrderedUuid();
  const ledger = ledgerStub(env, auth.tenant.id);
  const amount = call.price?.micros ?? 0;
  const release = (reason: string) => ledger.release(holdId, Date.now(), reason).catch(() => undefined);
  const admitted = await ledger
    .admitUpload({
      holdId,
      keyId: auth.key.id,
      endUser: auth.endUser,
      amountMicros: amount,
      costMicros: call.price?.costMicros ?? 0,
      now: Date.now(),
      budgets: budgetsFor(auth),
      requestsPerMinute: auth.tenant.limits.requests_per_minute,
      endUserRequestsPerMinute: endUserRequestsPerMinute(auth),
      alertThresholds: alertThresholds(auth.tenant),
      ...(call.upload ? { upload: { ...call.upload, viewer: taskViewer(auth) } } : {}),
    })
    .catch(async () => {
      if (amount > 0) await release("not forwarded: the admission's answer was lost");
      throw new AppError("service_unavailable", "The upload could not be admitted; nothing was sent to RunAPI. Retry shortly.", undefined, {
        "Retry-After": "1",
      });
    });
  if (!admitted.ok) {
    if (admitted.code === "not_found") throw new AppError("not_found", "No such upload");
    throw refusal(admitted, microsToUsd(amount), isBackend(auth));
  }

  let body: Record<string, unknown>;
  try {
    body = await call.forward();
  } catch (err) {
    if (amount > 0) await release(err instanceof AppError ? `upload failed: ${err.code}` : "upload failed");
    throw err;
  }

  if (call.opens) {
    const id = call.opens === "file" ? body.signed_id : body.id;
    if (typeof id !== "string" || !isUploadId(id)) throw new AppError("upstream_error", "RunAPI opened an upload without a usable id");
    await ledger.recordUpload({ kind: call.opens, id, keyId: auth.key.id, endUser: auth.endUser }).catch(() => {
      throw new AppError("service_unavailable", "RunAPI opened the upload but the proxy could not record it as yours; start it again", undefined, {
        "Retry-After": "1",
      });
    });
  }
  const headers: Record<string, string> = {};
  if (call.price) {
    headers["X-Charged-Usd"] = formatUsd(amount);
    if (amount > 0) {
      waitUntil(
        ledger
          .settle(holdId, amount, Date.now(), "files upload", call.price.costMicros)
          .catch((e: unknown) => log.error("upload_settle_failed", { request_id: requestId, error: e instanceof Error ? e.name : "unknown" })),
      );
    }
  }
  return { body, headers, budgets: admitted.budgets };
}
