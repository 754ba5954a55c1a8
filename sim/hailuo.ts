import { Hono } from "hono";
import { parseHailuoRequest } from "../src/domain/hailuo";
import { readJson, SimError, simConfig, simState, type SimApp } from "./env";
import { canonicalJson, parseMarkers, type HailuoEndpoint } from "./progress";

/** Longest Idempotency-Key RunAPI accepts. */
export const MAX_IDEMPOTENCY_KEY = 512;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const endpointOf = (raw: string): HailuoEndpoint => {
  if (raw === "text_to_video" || raw === "image_to_video") return raw;
  throw new SimError(404, "not_found", `Unknown Hailuo endpoint ${raw}`);
};

const idempotencyKeyOf = (header: string | undefined): string | null => {
  if (header === undefined) return null;
  if (header.length === 0 || header.length > MAX_IDEMPOTENCY_KEY) {
    throw new SimError(400, "invalid_request", `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY} characters`);
  }
  return header;
};

/** RunAPI's Hailuo routes: create a task, read its status. */
export const hailuo = new Hono<SimApp>()
  .post("/:endpoint", async (c) => {
    const endpoint = endpointOf(c.req.param("endpoint"));
    const idempotencyKey = idempotencyKeyOf(c.req.header("idempotency-key"));
    const body = await readJson(c);
    const parsed = parseHailuoRequest(endpoint, body, { allowHttp: true, allowPrivate: true });
    if (!parsed.ok) {
      const message = parsed.issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join("; ");
      throw new SimError(400, "invalid_request", message || "Invalid request");
    }
    const { model, prompt, callback_url: callbackUrl } = parsed.request;
    const markers = parseMarkers(prompt);
    if (markers.error500) throw new SimError(500, "internal_error", "internal error", undefined, true);
    if (markers.unprocessable) throw new SimError(422, "invalid_request", "first_frame_image_url could not be fetched");
    if (markers.rateLimited) throw new SimError(429, "rate_limited", "Too many requests", { "Retry-After": "7" });
    const result = await simState(c.env).create({
      endpoint,
      model,
      prompt,
      callbackUrl: callbackUrl ?? null,
      idempotencyKey,
      fingerprint: `${endpoint}\n${canonicalJson(body)}`,
      baseUrl: new URL(c.req.url).origin,
    });
    if (result.kind === "conflict") {
      throw new SimError(409, "idempotency_conflict", "Idempotency-Key was already used with a different request body");
    }
    // [sim:slow]: the task is made at once, but the answer is late (a caller with a short timeout loses it).
    // A re-send with the same Idempotency-Key is answered at once with the task already made.
    if (markers.slow && result.kind === "created") await scheduler.wait(simConfig(c.env).slowMs);
    return c.json(result.task, 200, result.kind === "replayed" ? { "Idempotent-Replayed": "true" } : {});
  })
  .get("/:endpoint/:id", async (c) => {
    const endpoint = endpointOf(c.req.param("endpoint"));
    const id = c.req.param("id");
    const task = UUID.test(id) ? await simState(c.env).task(id) : null;
    if (!task || task.endpoint !== endpoint) throw new SimError(404, "not_found", `Task ${id} not found`);
    const markers = parseMarkers(task.prompt);
    if (markers.statusGone) throw new SimError(404, "not_found", `Task ${id} not found`);
    if (markers.statusGarbage) return c.json({ id, status: "queued" });
    if (markers.statusUnavailable && (task.status === "pending" || task.status === "processing")) {
      throw new SimError(503, "unavailable", "Service temporarily unavailable", undefined, true);
    }
    const { endpoint: _endpoint, callback_url: _callback, prompt: _prompt, ...view } = task;
    return c.json(view);
  });
