import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { decodeCursor } from "../domain/ledger-limits";
import { microsToUsd } from "../domain/money";
import { ledgerStub } from "../lib/stubs";
import { parseQuery } from "../lib/validate";
import { mustGetTenant } from "./admin-lookup";

const DAY_MS = 86_400_000;
/** Ledger entries read per page while summing a spend window. */
const PAGE = 10_000;

/** `GET /admin/v1/tenants/{id}/spend`: how many UTC days back from today (today included). */
export const SpendQuery = z.object({ days: z.coerce.number().int().min(1).max(366).default(30) });

/** `GET /admin/v1/tenants/{id}/tasks`: the tenant's newest tasks, every key and end user. */
export const TenantTasksQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(20),
  cursor: z
    .string()
    .max(200)
    .refine((v) => decodeCursor(v) !== null, "is not a cursor this API issued")
    .optional(),
});

/** `GET /admin/v1/tenants/{id}/breakdown`: use per key or per end user over the last `days` days. */
export const BreakdownQuery = z.object({
  by: z.enum(["key", "end_user"]).default("key"),
  days: z.coerce.number().int().min(1).max(366).default(30),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

/** `GET /admin/v1/tenants/{id}/failures`: how many of each kind, newest first. */
export const FailuresQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });

/** One UTC day of a tenant's money: what was charged (settled), credited or debited, and reserved. */
export interface SpendDay {
  date: string;
  charged_usd: number;
  adjusted_usd: number;
  reserved_usd: number;
  tasks: number;
}

/** Read-only operator views the console draws: spend per day, recent tasks, use per key and end user, failures. */
export const adminInsights = new Hono<AppEnv>()
  .get("/tenants/:id/spend", async (c) => {
    const { id } = await mustGetTenant(c.env, c.req.param("id"));
    const { days } = parseQuery(c, SpendQuery);
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const from = today - (days - 1) * DAY_MS;
    const charged = new Array<number>(days).fill(0);
    const adjusted = new Array<number>(days).fill(0);
    const reserved = new Array<number>(days).fill(0);
    const ledger = ledgerStub(c.env, id);
    // Tasks from the task rows: a chat completion reserves too, but it is not a task.
    const tasks = await ledger.tasksPerDay(from, days);
    let afterId: number | undefined;
    do {
      const page = await ledger.entries({ from, limit: PAGE, afterId });
      for (const e of page.entries) {
        const day = Math.floor((Date.parse(e.at) - from) / DAY_MS);
        if (day < 0 || day >= days) continue;
        if (e.type === "settle") charged[day]! += e.amount_micros;
        else if (e.type === "adjust")
          adjusted[day]! -= e.amount_micros; // a positive adjustment is a credit: spend goes down
        else if (e.type === "reserve") reserved[day]! += e.amount_micros;
      }
      afterId = page.next_after_id ?? undefined;
    } while (afterId !== undefined);
    const series: SpendDay[] = charged.map((micros, i) => ({
      date: new Date(from + i * DAY_MS).toISOString().slice(0, 10),
      charged_usd: microsToUsd(micros),
      adjusted_usd: microsToUsd(adjusted[i]!),
      reserved_usd: microsToUsd(reserved[i]!),
      tasks: tasks[i]!,
    }));
    return c.json({ tenant_id: id, from: new Date(from).toISOString(), days: series });
  })
  .get("/tenants/:id/tasks", async (c) => {
    const { id } = await mustGetTenant(c.env, c.req.param("id"));
    const q = parseQuery(c, TenantTasksQuery);
    const page = await ledgerStub(c.env, id).listTasks({ limit: q.limit, cursor: q.cursor });
    return c.json({ tenant_id: id, tasks: page.tasks, next_cursor: page.next_cursor });
  })
  .get("/tenants/:id/breakdown", async (c) => {
    const { id } = await mustGetTenant(c.env, c.req.param("id"));
    const q = parseQuery(c, BreakdownQuery);
    const to = Date.now();
    const rows = await ledgerStub(c.env, id).usageBy({ by: q.by, from: to - q.days * DAY_MS, to, limit: q.limit });
    return c.json({ tenant_id: id, by: q.by, days: q.days, rows });
  })
  .get("/tenants/:id/failures", async (c) => {
    const { id } = await mustGetTenant(c.env, c.req.param("id"));
    const { limit } = parseQuery(c, FailuresQuery);
    return c.json({ tenant_id: id, ...(await ledgerStub(c.env, id).failures(limit)) });
  });
