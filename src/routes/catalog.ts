import { Hono, type Context } from "hono";
import { createMiddleware } from "hono/factory";
import { findAction, isService, type CatalogAction } from "../catalog/catalog";
import { canonicalJson } from "../catalog/request";
import { validateRequest, type ValidRequest } from "../catalog/validate";
import type { AppEnv } from "../env";
import { budgetsFor } from "../domain/budgets";
import { formatUsd, microsToUsd } from "../domain/money";
import { UUID } from "../domain/task-state";
import {
  alertThresholds,
  derivedIdempotencyScope,
  capacityClaim,
  endUserRequestsPerMinute,
  idempotencyScope,
  isBackend,
  taskViewer,
  tenantMarkup,
  visibleScopes,
} from "../domain/tenant";
import { createTask } from "../durable-objects/create-flow";
import { syncCall } from "../durable-objects/sync-flow";
import { readJsonBody } from "../lib/body";
import { sha256Hex } from "../lib/crypto";
import { AppError, invalidRequest } from "../lib/errors";
import { refreshIfStale } from "../lib/price-sync";
import { assertModelAllowed } from "../lib/refusal";
import { priceRequest, type Price } from "../lib/pricing";
import { ledgerStub } from "../lib/stubs";
import { verifyHuman } from "../lib/turnstile";
import { tenantAuth } from "../middleware/auth";
import { RunApiClient } from "../upstream/runapi";

const MAX_IDEMPOTENCY_KEY = 512;

/** Logs and counts a catalog request under its action's own path (`/api/v1/kling/text_to_video`, `…/:id`), not the generic pattern. */
const labelled = createMiddleware<AppEnv>(async function labelled(c, next) {
  const action = findAction(c.req.param("service") ?? "", c.req.param("action") ?? "");
  if (action) c.set("routeLabel", c.req.param("id") === undefined ? action.path : `${action.path}/:id`);
  await next();
});

/** The catalog action a path names; an unknown service or action is a 404 that says what exists. */
export function actionAt(service: string, action: string): CatalogAction {
  const found = findAction(service, action);
  if (found) return found;
  throw new AppError(
    "not_found",
    isService(service) ? `RunAPI's ${service} has no ${action} action` : `No RunAPI service ${service}; GET /api/v1/models lists the catalog`,
  );
}

/** Validates a create body for an action and checks the caller may use it: the tenant's and the key's `allowed_models` (SPEC §12). */
export function validatedRequest(c: Context<AppEnv>, action: CatalogAction, body: unknown, partial = false): ValidRequest {
  const opts = { allowHttp: c.var.config.allowHttpUrls, allowPrivate: c.var.config.allowPrivateUrls, partial };
  const parsed = validateRequest(action, body, opts);
  if (!parsed.ok) throw invalidRequest(parsed.issues);
  const { request, callbackUrl } = parsed.value;
  if (callbackUrl && !isBackend(c.var.auth)) {
    // A browser-side caller must not redirect the tenant's signed webhook.
    throw new AppError("forbidden", "Only a secret key may set callback_url; the tenant's webhook_url receives this task");
  }
  assertModelAllowed(c.var.auth, request, request.model ?? `${request.service} ${request.action}`);
  return parsed.value;
}

/** The fields of a price quote, checked as a create's would be except that required fields need not be sent. */
export function quotedRequest(c: Context<AppEnv>, action: CatalogAction, params: unknown): ValidRequest {
  return validatedRequest(c, action, params, true);
}

/** Prices a valid request in the caller's tenant's terms (its markup); a schedule whose sync is long overdue is refreshed meanwhile. */
export async function priceFor(c: Context<AppEnv>, action: CatalogAction, valid: ValidRequest): Promise<Price> {
  const { config, auth } = c.var;
  const client = new RunApiClient(config, c.env.RUNAPI);
  await refreshIfStale(c.env.TENANTS, client, (p) => c.executionCtx.waitUntil(p));
  return priceRequest(c.env.TENANTS, config, client, action, valid.request, valid.effective, tenantMarkup(auth.tenant));
}

/** The Idempotency-Key header, checked (1 to 512 characters), or undefined. */
function idempotencyKeyOf(c: Context<AppEnv>): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY)) {
    throw invalidRequest([{ field: "Idempotency-Key", message: `must be 1 to ${MAX_IDEMPOTENCY_KEY} characters` }]);
  }
  return key;
}

/**
 * Every RunAPI action as RunAPI's SDKs call it (SPEC §12): `POST /api/v1/{service}/{action}` validates,
 * prices and reserves, then creates a task (asynchronous actions) or answers in the request (synchronous
 * ones); `GET /api/v1/{service}/{action}/{id}` reads a task from the tenant's object, no upstream call.
 */
export const catalogRoutes = new Hono<AppEnv>()
  .post("/:service/:action", labelled, tenantAuth, async (c) => {
    const action = actionAt(c.req.param("service"), c.req.param("action"));
    const idempotencyKey = idempotencyKeyOf(c);
    const valid = validatedRequest(c, action, await readJsonBody(c));
    const price = await priceFor(c, action, valid);
    await verifyHuman(c);
    const { config, auth } = c.var;
    const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
    const limits = {
      maxConcurrentTasks: auth.tenant.limits.max_concurrent_tasks,
      requestsPerMinute: auth.tenant.limits.requests_per_minute,
      endUserRequestsPerMinute: endUserRequestsPerMinute(auth),
    };
    const common = {
      tenantId: auth.tenant.id,
      keyId: auth.key.id,
      endUser: auth.endUser,
      backend: isBackend(auth),
      viewer: taskViewer(auth),
      request: valid.request,
      route: { path: action.path, sendsModel: action.takesModel },
      references: valid.references,
      price,
      budgets: budgetsFor(auth),
      limits,
      alertThresholds: alertThresholds(auth.tenant),
    };
    c.header("X-Estimated-Cost-Usd", formatUsd(price.micros));
    if (action.sync) {
      const answer = await syncCall(c.env, config, waitUntil, common, c.var.requestId);
      for (const [name, value] of Object.entries(answer.headers)) c.header(name, value);
      const visible = visibleScopes(auth, answer.budgets);
      if (visible.length) c.header("X-Budget-Remaining-Usd", formatUsd(Math.min(...visible.map((b) => b.remaining_micros))));
      return c.json(answer.body);
    }

    const bodyHash = await sha256Hex(`${action.service}/${action.action}\n${canonicalJson(valid.request)}`);
    const capacity = capacityClaim(auth.tenant, c.req.header("prefer"));
    const outcome = await createTask(c.env, config, waitUntil, {
      ...common,
      // Without a key the proxy derives one from the request, for a short window: a retry after a create whose outcome
      // could not be confirmed gets that task, never a second one (SPEC §13).
      idempotency: idempotencyKey
        ? { key: idempotencyScope(auth, idempotencyKey), bodyHash }
        : { key: derivedIdempotencyScope(auth, bodyHash), bodyHash, derived: true },
      notifyUrl: valid.callbackUrl ?? auth.tenant.webhook_url,
      origin: config.publicBaseUrl ?? new URL(c.req.url).origin,
      capacity,
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
      // A replay of a task still queued answers as its first request did: 202, queued.
      const queued = outcome.view.status === "queued";
      return c.json(
        createResponse(outcome.view.id, outcome.view.model, outcome.estimateMicros, outcome.view.submission, queued ? "queued" : "pending"),
        queued ? 202 : 200,
      );
    }
    const visible = visibleScopes(auth, outcome.budgets);
    if (visible.length) c.header("X-Budget-Remaining-Usd", formatUsd(Math.min(...visible.map((b) => b.remaining_micros))));
    const model = valid.request.model ?? valid.request.action;
    if (outcome.kind === "unknown") {
      // RunAPI's answer was lost: the task is held and reconciled; the client polls it like any other.
      return c.json(createResponse(outcome.taskId, model, price.micros, "unknown"), 202);
    }
    if (outcome.kind === "queued" || outcome.kind === "retrying") {
      // Beyond the tenant's share of RunAPI's capacity (or RunAPI said 429): held, and sent by the tenant's object in fair order.
      if (capacity.queue) c.header("Preference-Applied", "respond-async, queue");
      return c.json(createResponse(outcome.taskId, model, price.micros, undefined, outcome.kind === "queued" ? "queued" : "pending"), 202);
    }
    return c.json(createResponse(outcome.taskId, model, price.micros));
  })
  .get("/:service/:action/:id", labelled, tenantAuth, async (c) => {
    const action = actionAt(c.req.param("service"), c.req.param("action"));
    const id = c.req.param("id");
    const at = { service: action.service, action: action.action };
    const view = UUID.test(id) ? await ledgerStub(c.env, c.var.auth.tenant.id).readTask(id, taskViewer(c.var.auth), at) : null;
    if (!view) throw new AppError("not_found", "No such task");
    return c.json(view);
  });

function createResponse(id: string, model: string, estimateMicros: number, submission?: "unknown", status: "pending" | "queued" = "pending") {
  return { id, task_id: id, status, model, estimated_cost_usd: microsToUsd(estimateMicros), ...(submission ? { submission } : {}) };
}
