import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { budgetsFor } from "../domain/budgets";
import { parseHailuoRequest, type Endpoint, type HailuoRequest } from "../domain/hailuo";
import { formatUsd, microsToUsd } from "../domain/money";
import { endUserRequestsPerMinute, isBackend, taskViewer, visibleScopes } from "../domain/tenant";
import { callbackToken } from "../domain/webhook-signing";
import { readJsonBody } from "../lib/body";
import { sha256Hex } from "../lib/crypto";
import { AppError, invalidRequest } from "../lib/errors";
import { estimate } from "../lib/price-store";
import { ledgerStub, refusal, taskStub } from "../lib/stubs";
import { verifyHuman } from "../lib/turnstile";
import { tenantAuth } from "../middleware/auth";
import { RunApiClient } from "../upstream/runapi";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_IDEMPOTENCY_KEY = 512;

/** Validates a create body for an endpoint and checks the model is allowed for the tenant. */
export function validatedRequest(c: Context<AppEnv>, endpoint: Endpoint, body: unknown): HailuoRequest {
  const parsed = parseHailuoRequest(endpoint, body, { allowHttp: c.var.config.allowHttpUrls });
  if (!parsed.ok) throw invalidRequest(parsed.issues);
  if (parsed.request.callback_url && !isBackend(c.var.auth)) {
    // A browser-side caller must not redirect the tenant's signed webhook.
    throw new AppError("forbidden", "Only a secret key may set callback_url; the tenant's webhook_url receives this task");
  }
  const allowed = c.var.auth.tenant.allowed_models;
  if (allowed && !allowed.includes(parsed.request.model)) {
    throw new AppError("forbidden", `Model ${parsed.request.model} is not allowed for this tenant`, { allowed_models: allowed });
  }
  return parsed.request;
}

/** The drop-in RunAPI Hailuo endpoints: create (validate → estimate → reserve → forward) and status. */
export const hailuo = new Hono<AppEnv>()
  .use(tenantAuth)
  .post("/:endpoint{text_to_video|image_to_video}", async (c) => {
    const endpoint = c.req.param("endpoint") as Endpoint;
    const idempotencyKey = c.req.header("idempotency-key");
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY)) {
      throw invalidRequest([{ field: "Idempotency-Key", message: `must be 1 to ${MAX_IDEMPOTENCY_KEY} characters` }]);
    }
    const request = validatedRequest(c, endpoint, await readJsonBody(c));
    const { config, auth } = c.var;
    const client = new RunApiClient(config, c.env.RUNAPI);
    const price = await estimate(c.env.TENANTS, config, client, request);
    await verifyHuman(c);

    const taskId = crypto.randomUUID();
    const ledger = ledgerStub(c.env, auth.tenant.id);
    const reservation = await ledger.reserve({
      taskId,
      keyId: auth.key.id,
      endUser: auth.endUser,
      model: request.model,
      amountMicros: price.micros,
      now: Date.now(),
      budgets: budgetsFor(auth),
      maxConcurrentTasks: auth.tenant.limits.max_concurrent_tasks,
      requestsPerMinute: auth.tenant.limits.requests_per_minute,
      endUserRequestsPerMinute: endUserRequestsPerMinute(auth),
      idempotency: idempotencyKey ? { key: idempotencyKey, bodyHash: await sha256Hex(`${endpoint}\n${canonicalJson(request)}`) } : null,
    });
    if (!reservation.ok) {
      if (reservation.code !== "idempotent_replay") throw refusal(reservation, microsToUsd(price.micros), isBackend(auth));
      // Replayable once RunAPI accepted the first request; until then it is in flight (or failing, and about to be forgotten).
      const replay = await taskStub(c.env, reservation.taskId).submission(taskViewer(auth));
      if (!replay) {
        throw new AppError("idempotency_conflict", "This Idempotency-Key belongs to a request that is still in progress or was not accepted; retry shortly", undefined, { "Retry-After": "1" });
      }
      c.header("Idempotent-Replayed", "true");
      c.header("X-Estimated-Cost-Usd", formatUsd(replay.estimate_micros));
      return c.json(createResponse(replay.view.id, replay.view.model, replay.estimate_micros));
    }

    const origin = config.publicBaseUrl ?? new URL(c.req.url).origin;
    const task = taskStub(c.env, taskId);
    const started = await task.start({
      id: taskId,
      tenantId: auth.tenant.id,
      keyId: auth.key.id,
      endUser: auth.endUser,
      endpoint,
      request,
      estimateMicros: price.micros,
      priceSource: price.source,
      callbackUrl: `${origin}/webhooks/runapi/${taskId}/${await callbackToken(config.signingSecret, taskId)}`,
      notifyUrl: request.callback_url ?? auth.tenant.webhook_url,
      now: Date.now(),
    }).catch(async (err: unknown) => {
      // The task object failed before it could own the reservation: release it now rather than at the sweep.
      // A task that does exist settles or releases it itself.
      const state = await task.settlementState().catch(() => undefined);
      if (state === null) await ledger.release(taskId, Date.now(), "task object unavailable", { forgetIdempotency: true });
      console.error(JSON.stringify({ level: "error", request_id: c.var.requestId, task_id: taskId, start_error: err instanceof Error ? err.name : "unknown" }));
      throw new AppError("service_unavailable", "The task could not be submitted; nothing will be charged for it. Retry shortly.", { task_id: taskId }, { "Retry-After": "1" });
    });
    if ("error" in started) {
      const { code, message, details, headers } = started.error;
      throw new AppError(code, message, { ...details, task_id: taskId }, headers);
    }
    const visible = visibleScopes(auth, reservation.budgets);
    c.header("X-Estimated-Cost-Usd", formatUsd(price.micros));
    if (visible.length) c.header("X-Budget-Remaining-Usd", formatUsd(Math.min(...visible.map((b) => b.remaining_micros))));
    return c.json(createResponse(taskId, request.model, price.micros));
  })
  .get("/:endpoint{text_to_video|image_to_video}/:id", async (c) => {
    const id = c.req.param("id");
    const endpoint = c.req.param("endpoint") as Endpoint;
    const view = UUID.test(id) ? await taskStub(c.env, id).read(taskViewer(c.var.auth), endpoint) : null;
    if (!view) throw new AppError("not_found", "No such task");
    return c.json(view);
  });

function createResponse(id: string, model: string, estimateMicros: number) {
  return { id, task_id: id, status: "pending" as const, model, estimated_cost_usd: microsToUsd(estimateMicros) };
}

/** JSON with sorted keys, so equal requests hash equally whatever their field order or aliases. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export { UUID };
