import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { parseMarkup } from "../domain/markup";
import { microsToUsd } from "../domain/money";
import { invalidRequest } from "../lib/errors";
import { activeMarkup, activeSchedule, saveMarkup } from "../lib/price-store";
import { syncSchedule } from "../lib/price-sync";
import { ledgerStub } from "../lib/stubs";
import { listTenants } from "../lib/tenant-store";
import { parseBody, parseQuery } from "../lib/validate";
import { auditAs } from "../middleware/audit";
import { RunApiClient } from "../upstream/runapi";

const MarginsQuery = z.object({
  from: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
  to: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
});
/** Tenants a margins report reads at once (one tenant object each). */
const MARGIN_FANOUT = 20;

async function pricesJson(c: Context<AppEnv>) {
  const [active, markup] = await Promise.all([activeSchedule(c.env.TENANTS), activeMarkup(c.env.TENANTS)]);
  return {
    schedule: {
      origin: active.origin,
      as_of: active.as_of,
      etag: active.etag,
      synced_at: active.synced_at === null ? null : new Date(active.synced_at).toISOString(),
      prices: active.index.all.length,
    },
    pricing_mode: c.var.config.pricingMode,
    markup,
    // RunAPI's prices as the proxy holds them: what the operator pays, before markup.
    price_schedules: active.index.all,
  };
}

/**
 * The operator's prices (SPEC §12): RunAPI's schedule as synced, the markup on it (global default and
 * overrides per service/action/model; tenants may carry their own), a sync on demand, and the margin
 * between what tenants were charged and what RunAPI cost.
 */
export const adminPrices = new Hono<AppEnv>()
  .get("/prices", async (c) => c.json(await pricesJson(c)))
  .put("/prices", async (c) => {
    const parsed = parseMarkup(await parseBody(c, z.unknown()));
    if (!parsed.ok) throw invalidRequest(parsed.issues);
    const before = await activeMarkup(c.env.TENANTS);
    await saveMarkup(c.env.TENANTS, parsed.value);
    auditAs(c, { action: "prices.markup", target: "prices", before, after: parsed.value });
    return c.json(await pricesJson(c));
  })
  .post("/prices/sync", async (c) => {
    const report = await syncSchedule(c.env.TENANTS, new RunApiClient(c.var.config, c.env.RUNAPI));
    auditAs(c, { action: "prices.sync", target: "prices", after: { changed: report.changed, etag: report.etag, prices: report.prices } });
    return c.json(report);
  })
  .get("/margins", async (c) => {
    const q = parseQuery(c, MarginsQuery);
    const from = q.from ? Date.parse(q.from) : 0;
    const to = q.to ? Date.parse(q.to) : Date.now() + 1;
    const tenants: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listTenants(c.env.TENANTS, { limit: 1000, cursor });
      tenants.push(...page.tenants.map((t) => t.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    const rows: { tenant_id: string; model: string; requests: number; charged_usd: number; cost_usd: number; margin_usd: number }[] = [];
    const total = { charged: 0, cost: 0 };
    for (let i = 0; i < tenants.length; i += MARGIN_FANOUT) {
      const batch = tenants.slice(i, i + MARGIN_FANOUT);
      const results = await Promise.all(batch.map((id) => ledgerStub(c.env, id).margins(from, to)));
      results.forEach((models, j) => {
        for (const m of models) {
          total.charged += m.charged_micros;
          total.cost += m.cost_micros;
          rows.push({
            tenant_id: batch[j]!,
            model: m.model,
            requests: m.requests,
            charged_usd: microsToUsd(m.charged_micros),
            cost_usd: microsToUsd(m.cost_micros),
            margin_usd: microsToUsd(m.charged_micros - m.cost_micros),
          });
        }
      });
    }
    return c.json({
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      margins: rows,
      totals: { charged_usd: microsToUsd(total.charged), cost_usd: microsToUsd(total.cost), margin_usd: microsToUsd(total.charged - total.cost) },
    });
  });
