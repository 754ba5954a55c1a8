import { Hono } from "hono";
import { z } from "zod";
import { readJson, SimError, simState, type SimApp } from "./env";
import { etagOf, parsePatch, type SimSchedule } from "./schedule";

const LimitsSchema = z.strictObject({
  max_concurrent: z.number().int().nonnegative().optional(),
  requests_per_minute: z.number().int().nonnegative().optional(),
  reset_stats: z.boolean().optional(),
});

const AdvanceSchema = z.strictObject({
  status: z.enum(["processing", "completed", "failed"]),
  cost_cents: z.number().nonnegative().optional(),
  error: z.string().optional(),
});

/**
 * The simulator's control API (no auth), for tests and demos: the request record, forced task moves, the
 * callback outbox, the account's limits (`GET/POST /limits`), and RunAPI's prices (`POST /prices` `{reset?, replace?, set?, remove?, as_of?}` changes
 * the schedule `price_schedules` serves; the answer carries its new ETag).
 */
export const control = new Hono<SimApp>()
  .get("/requests", async (c) => {
    const requests = await simState(c.env).requests({ contains: c.req.query("contains"), path: c.req.query("path") });
    return c.json({ requests });
  })
  .get("/idempotency", async (c) => c.json({ tasks: await simState(c.env).idempotencyRecord() }))
  .get("/idempotency/:key", async (c) => {
    const task = await simState(c.env).byIdempotencyKey(c.req.param("key"));
    if (!task) throw new SimError(404, "not_found", `No task was made with Idempotency-Key ${c.req.param("key")}`);
    return c.json(task);
  })
  .get("/tasks/:id", async (c) => {
    const task = await simState(c.env).task(c.req.param("id"));
    if (!task) throw new SimError(404, "not_found", `Task ${c.req.param("id")} not found`);
    return c.json(task);
  })
  .post("/tasks/:id/advance", async (c) => {
    const parsed = AdvanceSchema.safeParse(await readJson(c));
    if (!parsed.success) {
      throw new SimError(400, "invalid_request", parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
    }
    const task = await simState(c.env).advance(c.req.param("id"), parsed.data);
    if (!task) throw new SimError(404, "not_found", `Task ${c.req.param("id")} not found`);
    return c.json(task);
  })
  .get("/limits", async (c) => c.json(await simState(c.env).accountLimits()))
  .post("/limits", async (c) => {
    const parsed = LimitsSchema.safeParse(await readJson(c));
    if (!parsed.success) throw new SimError(400, "invalid_request", parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
    return c.json(await simState(c.env).accountLimits(parsed.data));
  })
  .get("/outbox", async (c) => c.json({ callbacks: await simState(c.env).outbox(c.req.query("task_id") ?? null, false) }))
  .post("/outbox/take", async (c) => c.json({ callbacks: await simState(c.env).outbox(c.req.query("task_id") ?? null, true) }))
  .get("/prices", async (c) => {
    const text = await simState(c.env).schedule();
    return c.json({ etag: await etagOf(text), ...(JSON.parse(text) as SimSchedule) });
  })
  .post("/prices", async (c) => {
    const text = await simState(c.env).patchSchedule(parsePatch(await readJson(c)));
    const doc = JSON.parse(text) as SimSchedule;
    return c.json({ etag: await etagOf(text), as_of: doc.as_of, count: doc.price_schedules.length });
  });
