import { Hono } from "hono";
import type { AppEnv, Bindings } from "../env";
import type { ScopeBudget } from "../domain/ledger";
import { microsToUsd } from "../domain/money";
import { labelString, renderExposition, type Sample } from "../domain/prometheus";
import type { TenantRecord } from "../domain/tenant";
import { flushMetrics } from "../lib/metrics";
import { ledgerStub, metricsStub } from "../lib/stubs";
import { listTenants } from "../lib/tenant-store";
import { capacityGauges } from "./admin-capacity";

/** Tenants whose gauges one scrape reads (each is one call to its object); the rest are counted as skipped. */
const MAX_TENANTS_PER_SCRAPE = 1_000;
/** Tenant objects asked at once. */
const CONCURRENCY = 25;

/**
 * Gauges read at scrape from each tenant's object (the owner of its money): budget, spend and reservations
 * in the current window of the tenant's budget period and in `total`, and unfinished tasks.
 */
async function tenantGauges(env: Bindings): Promise<Sample[]> {
  const tenants: TenantRecord[] = [];
  let cursor: string | undefined;
  let skipped = 0;
  do {
    const page = await listTenants(env.TENANTS, { limit: 1000, cursor });
    for (const t of page.tenants)
      if (tenants.length < MAX_TENANTS_PER_SCRAPE) tenants.push(t);
      else skipped += 1;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  const out: Sample[] = [];
  const gauge = (name: string, labels: Record<string, string>, value: number) => out.push({ name, labels: labelString(labels), value });
  for (const status of ["active", "disabled"]) gauge("runapi_proxy_tenants", { status }, tenants.filter((t) => t.status === status).length);
  const now = Date.now();
  for (let i = 0; i < tenants.length; i += CONCURRENCY) {
    await Promise.all(
      tenants.slice(i, i + CONCURRENCY).map(async (t) => {
        const budgets: ScopeBudget[] = [{ scope: "tenant", subject: t.id, ...t.budget }];
        if (t.budget.period !== "total") budgets.push({ scope: "tenant", subject: t.id, limit_micros: 0, period: "total" });
        try {
          const state = await ledgerStub(env, t.id).metricsState(now, budgets);
          for (const [i, s] of state.budgets.entries()) {
            const labels = { tenant: t.id, period: s.period };
            if (i === 0) gauge("runapi_proxy_tenant_budget_usd", labels, microsToUsd(s.limit_micros));
            gauge("runapi_proxy_tenant_spent_usd", labels, microsToUsd(s.spent_micros));
            gauge("runapi_proxy_tenant_reserved_usd", labels, microsToUsd(s.reserved_micros));
          }
          gauge("runapi_proxy_tenant_unfinished_tasks", { tenant: t.id }, state.unfinished_tasks);
        } catch {
          skipped += 1;
        }
      }),
    );
  }
  gauge("runapi_proxy_metrics_tenants_skipped", {}, skipped);
  return out;
}

/**
 * `GET /admin/v1/metrics` (SPEC §15): Prometheus text exposition format. Counters and the latency histogram
 * are the deployment's totals (every isolate adds its counts to one object; this scrape flushes its own
 * first); tenant gauges are read from the tenants' objects now.
 */
export const metricsRoute = new Hono<AppEnv>().get("/metrics", async (c) => {
  await flushMetrics(c.env);
  const [counters, gauges, capacity] = await Promise.all([metricsStub(c.env).read(), tenantGauges(c.env), capacityGauges(c.env).catch(() => [])]);
  return c.body(renderExposition([...counters, ...gauges, ...capacity]), 200, {
    "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
    "Cache-Control": "no-store",
  });
});
