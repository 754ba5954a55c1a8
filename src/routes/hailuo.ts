import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { budgetsFor } from "../domain/budgets";
import { parseHailuoRequest, type Endpoint, type HailuoRequest } from "../domain/hailuo";
import { formatUsd, microsToUsd } from "../domain/money";
import { alertThresholds, endUserRequestsPerMinute, idempotencyScope, isBackend, taskViewer, visibleScopes } from "../domain/tenant";
import { createTask } from "../durable-objects/create-flow";
import { readJsonBody } from "../lib/body";
import { sha256Hex } from "../lib/crypto";
import { AppError, invalidRequest } from "../lib/errors";
import { estimate } from "../lib/price-store";
import { ledgerStub } from "../lib/stubs";
import { verifyHuman } from "../lib/turnstile";
import { tenantAuth } from "../middleware/auth";
import { RunApiClient } from "../upstream/runapi";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_IDEMPOTENCY_KEY = 512;

/** Validates a create body for an endpoint and checks the model is allowed for the tenant. */
export function validatedRequest(c: Context<AppEnv>, endpoint: Endpoint, body: unknown): HailuoRequest {
  const parsed = parseHailuoRequest(endpoint, body, { allowHttp: c.var.config.allowHttpUrls, allowPrivate: c.var.config.allowPrivateUrls });
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

/** The drop-in RunAPI Hailuo endpoints: create (validate → price → one create → present) and status. */
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
    const price = await estimate(c.env.TENANTS, config, new RunApiClient(config, c.env.RUNAPI), request);
    await verifyHuman(c);

    const outcome = await createTask(c.env, config, (p) => c.executionCtx.waitUntil(p), {
      tenantId: auth.tenant.id,
      keyId: auth.key.id,
      endUser: auth.endUser,
      backend: isBackend(auth),
      endpoint,
      request,
      price,
      budgets: budgetsFor(auth),
      limits: {
        maxConcurrentTasks: auth.tenant.limits.max_concurrent_tasks,
        requestsPerMinute: auth.tenant.limits.requests_per_minute,
        endUserRequestsPerMinute: endUserRequestsPerMinute(auth),
      },
      alertThresholds: alertThresholds(auth.tenant),
      idempotency: idempotencyKey ? { key: idempotencyScope(auth, idempotencyKey), bodyHash: await sha256Hex(`${endpoint}\n${canonicalJson(request)}`) } : null,
      notifyUrl: request.callback_url ?? auth.tenant.webhook_url,
      origin: config.publicBaseUrl ?? new URL(c.req.url).origin,
    }).catch((err: unknown) => {
      if (err instanceof AppError) throw err;
      // The tenant's object failed to answer: the create may or may not be held; a retry with the same Idempotency-Key is safe.
      throw new AppError(
        "service_unavailable",
        "The task could not be confirmed; retry shortly (with the same Idempotency-Key a retry never makes a second task)",
        undefined,
        { "Retry-After": "1" },
      );
    });

    if (outcome.kind === "replayed") {
      c.header("Idempotent-Replayed", "true");
      c.header("X-Estimated-Cost-Usd", formatUsd(outcome.estimateMicros));
      return c.json(createResponse(outcome.view.id, outcome.view.model, outcome.estimateMicros, outcome.view.submission));
    }
    const visible = visibleScopes(auth, outcome.budgets);
    c.header("X-Estimated-Cost-Usd", formatUsd(price.micros));
    if (visible.length) c.header("X-Budget-Remaining-Usd", formatUsd(Math.min(...visible.map((b) => b.remaining_micros))));
    if (outcome.kind === "unknown") {
      // RunAPI's answer was lost: the task is held and reconciled; the client polls it like any other.
      return c.json(createResponse(outcome.taskId, request.model, price.micros, "unknown"), 202);
    }
    return c.json(createResponse(outcome.taskId, request.model, price.micros));
  })
  .get("/:endpoint{text_to_video|image_to_video}/:id", async (c) => {
    const id = c.req.param("id");
    const endpoint = c.req.param("endpoint") as Endpoint;
    const view = UUID.test(id) ? await ledgerStub(c.env, c.var.auth.tenant.id).readTask(id, taskViewer(c.var.auth), endpoint) : null;
    if (!view) throw new AppError("not_found", "No such task");
    return c.json(view);
  });

function createResponse(id: string, model: string, estimateMicros: number, submission?: "unknown") {
  return { id, task_id: id, status: "pending" as const, model, estimated_cost_usd: microsToUsd(estimateMicros), ...(submission ? { submission } : {}) };
}

/** JSON with sorted keys, so equal requests hash equally whatever their field order or aliases. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

export { UUID };
