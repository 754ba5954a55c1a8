import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { decodeCursor } from "../domain/ledger-limits";
import { TASK_STATUSES } from "../domain/task-state";
import { taskViewer } from "../domain/tenant";
import { VIEWER_HEADER } from "../durable-objects/task";
import { AppError } from "../lib/errors";
import { ledgerStub, taskStub } from "../lib/stubs";
import { parseQuery } from "../lib/validate";
import { tenantAuth } from "../middleware/auth";
import { UUID } from "./hailuo";

export const ListQuery = z.object({
  status: z.enum(TASK_STATUSES as [string, ...string[]]).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).refine((v) => decodeCursor(v) !== null, "is not a cursor this API issued").optional(),
});

/** The caller's tasks: list, read, and a live event stream. Another tenant's task is a 404. */
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
    const view = UUID.test(id) ? await taskStub(c.env, id).read(taskViewer(c.var.auth)) : null;
    if (!view) throw new AppError("not_found", "No such task");
    return c.json(view);
  })
  .get("/:id/events", async (c) => {
    const id = c.req.param("id");
    if (!UUID.test(id)) throw new AppError("not_found", "No such task");
    const res = await taskStub(c.env, id).fetch("https://task.internal/events", { headers: { [VIEWER_HEADER]: JSON.stringify(taskViewer(c.var.auth)) } });
    if (res.status === 404) throw new AppError("not_found", "No such task");
    return new Response(res.body, { status: 200, headers: res.headers });
  });
