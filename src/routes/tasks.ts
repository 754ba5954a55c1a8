import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { decodeCursor } from "../domain/ledger-limits";
import { TASK_STATUSES } from "../domain/task-state";
import { taskViewer } from "../domain/tenant";
import { AppError } from "../lib/errors";
import { ledgerStub } from "../lib/stubs";
import { parseQuery } from "../lib/validate";
import { tenantAuth } from "../middleware/auth";
import { UUID } from "../domain/task-state";

/** When a refused event stream may try again: a stream whose reader left is released within a minute. */
const STREAM_RETRY_AFTER_SECONDS = 15;

export const ListQuery = z.object({
  status: z.enum(TASK_STATUSES as [string, ...string[]]).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .max(200)
    .refine((v) => decodeCursor(v) !== null, "is not a cursor this API issued")
    .optional(),
});

/** The caller's tasks: list, read, and a live event stream, each one call to the tenant's object. Another tenant's task is a 404. */
export const tasks = new Hono<AppEnv>()
  .use(tenantAuth)
  .get("/", async (c) => {
    const query = parseQuery(c, ListQuery);
    const { keyId, endUser } = taskViewer(c.var.auth);
    const page = await ledgerStub(c.env, c.var.auth.tenant.id).listTasks({ status: query.status, limit: query.limit, cursor: query.cursor, keyId, endUser });
    return c.json({ tasks: page.tasks, next_cursor: page.next_cursor });
  })
  .get("/:id", async (c) => {
    const id = c.req.param("id");
    const view = UUID.test(id) ? await ledgerStub(c.env, c.var.auth.tenant.id).readTask(id, taskViewer(c.var.auth)) : null;
    if (!view) throw new AppError("not_found", "No such task");
    return c.json(view);
  })
  .get("/:id/events", async (c) => {
    const id = c.req.param("id");
    const stream = UUID.test(id) ? await ledgerStub(c.env, c.var.auth.tenant.id).events(id, taskViewer(c.var.auth)) : null;
    if (!stream) throw new AppError("not_found", "No such task");
    if (!(stream instanceof ReadableStream)) {
      const which = stream.refused === "per_task" ? "This task" : "This tenant";
      throw new AppError(
        "rate_limited",
        `${which} already has ${stream.limit} open event streams; close one (or wait for one to end) and retry`,
        { limit: stream.refused === "per_task" ? "sse_max_streams_per_task" : "sse_max_streams_per_tenant", retry_after_seconds: STREAM_RETRY_AFTER_SECONDS },
        { "Retry-After": String(STREAM_RETRY_AFTER_SECONDS) },
      );
    }
    return new Response(stream, {
      headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache, no-transform", Connection: "keep-alive" },
    });
  });
