import { Hono } from "hono";
import { findAction, type CatalogAction } from "../src/catalog/catalog";
import { readJson, SimError, simConfig, simState, type SimApp } from "./env";
import { canonicalJson, parseMarkers, stringsOf } from "./progress";
import { checkRequest, issuesText } from "./validate";

/** Longest Idempotency-Key RunAPI accepts. */
export const MAX_IDEMPOTENCY_KEY = 512;

/** Fields that name an earlier task of the account's (RunAPI's id: the proxy must have swapped its own for it). */
export const TASK_REFERENCES = ["source_task_id", "task_id"] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const actionOf = (service: string, action: string): CatalogAction => {
  const found = findAction(service, action);
  if (!found) throw new SimError(404, "not_found", `No RunAPI action ${service}/${action}`);
  return found;
};

const idempotencyKeyOf = (header: string | undefined): string | null => {
  if (header === undefined) return null;
  if (header.length === 0 || header.length > MAX_IDEMPOTENCY_KEY) {
    throw new SimError(400, "invalid_request", `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY} characters`);
  }
  return header;
};

/**
 * Every catalog action at RunAPI's paths (`/api/v1/{service}/{action}`, the service with `_` or `-`):
 * create (validated by the simulator's own reading of the contract; a synchronous action answers with its
 * finished task) and status. Faults are asked for with `[sim:…]` in any string of the request.
 */
export const tasks = new Hono<SimApp>()
  .post("/:service/:action", async (c) => {
    const action = actionOf(c.req.param("service"), c.req.param("action"));
    const idempotencyKey = idempotencyKeyOf(c.req.header("idempotency-key"));
    const checked = checkRequest(action, await readJson(c));
    if (!checked.ok) throw new SimError(400, "invalid_request", issuesText(checked.issues));
    const { body } = checked;
    let model = checked.model;
    const state = simState(c.env);
    for (const field of TASK_REFERENCES) {
      const ref = body[field];
      if (typeof ref !== "string") continue;
      const source = UUID.test(ref) ? await state.task(ref) : null;
      if (!source) throw new SimError(422, "invalid_request", `${field}: no task ${ref} on this account`);
      // An action several models serve that names none (extend a video) renders with its source task's model.
      if (model === null && source.model !== null && action.models.includes(source.model)) model = source.model;
    }
    const markers = parseMarkers(stringsOf(body));
    if (markers.error500) throw new SimError(500, "internal_error", "internal error", undefined, true);
    if (markers.unprocessable) throw new SimError(422, "invalid_request", "An input file could not be fetched");
    if (markers.rateLimited) throw new SimError(429, "rate_limited", "Too many requests", { "Retry-After": "7" });
    if (action.sync && markers.fail) throw new SimError(422, "generation_failed", "The simulated generation failed");
    const callbackUrl = typeof body.callback_url === "string" ? body.callback_url : null;
    const result = await state.create({
      service: action.service,
      endpoint: action.action,
      modality: action.modality,
      model,
      body,
      sync: action.sync,
      callbackUrl,
      idempotencyKey,
      fingerprint: `${action.service}/${action.action}\n${canonicalJson(body)}`,
      baseUrl: new URL(c.req.url).origin,
    });
    if (result.kind === "conflict") {
      throw new SimError(409, "idempotency_conflict", "Idempotency-Key was already used with a different request body");
    }
    if (result.kind === "busy") {
      throw new SimError(429, "concurrency_limit", "The account is at its concurrency or rate limit", { "Retry-After": String(result.retryAfterSeconds) });
    }
    // [sim:slow]: the task is made at once, but the answer is late (a caller with a short timeout loses it).
    // A re-send with the same Idempotency-Key is answered at once with the task already made.
    if (markers.slow && result.kind === "created") await scheduler.wait(simConfig(c.env).slowMs);
    return c.json(result.task, 200, result.kind === "replayed" ? { "Idempotent-Replayed": "true" } : {});
  })
  .get("/:service/:action/:id", async (c) => {
    const action = actionOf(c.req.param("service"), c.req.param("action"));
    const id = c.req.param("id");
    const task = UUID.test(id) ? await simState(c.env).task(id) : null;
    if (!task || task.service !== action.service || task.endpoint !== action.action) throw new SimError(404, "not_found", `Task ${id} not found`);
    const markers = parseMarkers(task.text);
    if (markers.statusGone) throw new SimError(404, "not_found", `Task ${id} not found`);
    if (markers.statusGarbage) return c.json({ id, status: "queued" });
    if (markers.statusUnavailable && (task.status === "pending" || task.status === "processing")) {
      throw new SimError(503, "unavailable", "Service temporarily unavailable", undefined, true);
    }
    const { service: _s, endpoint: _e, callback_url: _c, prompt: _p, text: _t, ...view } = task;
    return c.json(view);
  });
