import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv, Config } from "../env";
import { unsafeTargetReason } from "../domain/url-safety";
import { scopeJson } from "../domain/budgets";
import { formatUsd, usdToMicros } from "../domain/money";
import type { TenantRecord } from "../domain/tenant";
import { newWebhookSecret } from "../domain/webhook-signing";
import { AppError, invalidRequest } from "../lib/errors";
import { ledgerStub } from "../lib/stubs";
import { getTenant, listTenants, putTenant } from "../lib/tenant-store";
import { parseBody, parseQuery } from "../lib/validate";
import { auditAs } from "../middleware/audit";
import { mustGetTenant, tenantBudgets } from "./admin-lookup";
import { AdjustmentInput, TenantCreate, tenantJson, TenantPatch } from "./admin-schemas";

export const ListQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), cursor: z.string().max(500).optional() });
export const LedgerQuery = z.object({
  from: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
  to: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
  by: z.enum(["at", "booked_at"]).default("at"),
  format: z.enum(["json", "csv"]).default("json"),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  cursor: z.coerce.number().int().positive().optional(),
});

/** The operator API (SPEC §3): tenants, usage, ledger export, adjustments (prices: admin-prices.ts). Mounted behind `operatorAuth` (see operator-api.ts). */
export const admin = new Hono<AppEnv>()
  .post("/tenants", async (c) => {
    const input = await parseBody(c, TenantCreate);
    checkWebhookUrl(input.webhook_url, c.var.config);
    const id = input.id ?? `tn_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
    if (await getTenant(c.env.TENANTS, id)) throw new AppError("conflict", `Tenant ${id} already exists`);
    const now = new Date().toISOString();
    const tenant: TenantRecord = {
      id,
      name: input.name,
      status: "active",
      budget: input.budget,
      // Limits the operator leaves out are the deployment's defaults (SPEC §14); `null` says "none" on purpose.
      limits: {
        max_concurrent_tasks:
          input.limits?.max_concurrent_tasks === undefined ? c.var.config.defaultTenantMaxConcurrentTasks : input.limits.max_concurrent_tasks,
        requests_per_minute: input.limits?.requests_per_minute === undefined ? c.var.config.defaultTenantRequestsPerMinute : input.limits.requests_per_minute,
      },
      allowed_models: input.allowed_models ?? null,
      ...(input.markup_percent != null ? { markup_percent: input.markup_percent } : {}),
      ...(input.markup_overrides?.length ? { markup_overrides: input.markup_overrides } : {}),
      end_user_budget: input.end_user_budget ?? null,
      webhook_url: input.webhook_url ?? null,
      ...(input.alert_thresholds_percent ? { alert_thresholds_percent: input.alert_thresholds_percent } : {}),
      ...(input.capacity_weight !== undefined ? { capacity_weight: input.capacity_weight } : {}),
      ...(input.capacity_floor !== undefined ? { capacity_floor: input.capacity_floor } : {}),
      ...(input.queue !== undefined ? { queue: input.queue } : {}),
      webhook_secret: newWebhookSecret(),
      created_at: now,
      updated_at: now,
    };
    await putTenant(c.env.TENANTS, tenant);
    auditAs(c, { action: "tenant.create", target: `tenant:${id}`, before: null, after: tenantJson(tenant) });
    return c.json({ tenant: tenantJson(tenant, { withSecret: true }) }, 201);
  })
  .get("/tenants", async (c) => {
    const q = parseQuery(c, ListQuery);
    const page = await listTenants(c.env.TENANTS, q);
    return c.json({ tenants: page.tenants.map((t) => tenantJson(t)), next_cursor: page.next_cursor });
  })
  .get("/tenants/:id", async (c) => c.json({ tenant: tenantJson(await mustGetTenant(c.env, c.req.param("id"))) }))
  .patch("/tenants/:id", async (c) => {
    const tenant = await mustGetTenant(c.env, c.req.param("id"));
    const { rotate_webhook_secret, limits, ...patch } = await parseBody(c, TenantPatch);
    checkWebhookUrl(patch.webhook_url, c.var.config);
    const next: TenantRecord = {
      ...tenant,
      ...patch,
      limits: { ...tenant.limits, ...limits },
      webhook_secret: rotate_webhook_secret ? newWebhookSecret() : tenant.webhook_secret,
      updated_at: new Date().toISOString(),
    };
    // The ledger refuses (or allows again) billable requests at once; KV reads follow within its propagation.
    if (patch.status) await ledgerStub(c.env, tenant.id).setSuspended(patch.status === "disabled", Date.now());
    await putTenant(c.env.TENANTS, next);
    const after = { ...tenantJson(next), ...(rotate_webhook_secret ? { webhook_secret_rotated: true } : {}) };
    auditAs(c, { action: patch.status === "disabled" ? "tenant.disable" : "tenant.update", target: `tenant:${tenant.id}`, before: tenantJson(tenant), after });
    return c.json({ tenant: tenantJson(next, { withSecret: rotate_webhook_secret }) });
  })
  .delete("/tenants/:id", async (c) => {
    const tenant = await mustGetTenant(c.env, c.req.param("id"));
    const next: TenantRecord = { ...tenant, status: "disabled", updated_at: new Date().toISOString() };
    await ledgerStub(c.env, tenant.id).setSuspended(true, Date.now());
    await putTenant(c.env.TENANTS, next);
    auditAs(c, { action: "tenant.disable", target: `tenant:${tenant.id}`, before: tenantJson(tenant), after: tenantJson(next) });
    return c.json({ tenant: tenantJson(next) });
  })
  .get("/tenants/:id/usage", async (c) => {
    const tenant = await mustGetTenant(c.env, c.req.param("id"));
    const ledger = ledgerStub(c.env, tenant.id);
    const states = await ledger.usage(Date.now(), await tenantBudgets(c.env, tenant));
    const videoStorage = await ledger.videoStorage(Date.now(), c.var.config.videoRetentionMs);
    return c.json({ tenant_id: tenant.id, budgets: states.map(scopeJson), video_storage: videoStorage });
  })
  .get("/tenants/:id/ledger", async (c) => {
    const tenant = await mustGetTenant(c.env, c.req.param("id"));
    const q = parseQuery(c, LedgerQuery);
    const { entries, next_after_id } = await ledgerStub(c.env, tenant.id).entries({
      from: q.from ? Date.parse(q.from) : undefined,
      to: q.to ? Date.parse(q.to) : undefined,
      by: q.by,
      limit: q.limit,
      afterId: q.cursor,
    });
    const nextCursor = next_after_id === null ? null : String(next_after_id);
    if (q.format === "json") return c.json({ tenant_id: tenant.id, entries, next_cursor: nextCursor });
    const header = "id,at,booked_at,type,task_id,key_id,end_user,model,amount_usd,reserved_usd,reason";
    const rows = entries.map((e) =>
      [
        e.id,
        e.at,
        e.booked_at,
        e.type,
        textCell(e.task_id),
        textCell(e.key_id),
        textCell(e.end_user),
        textCell(e.model),
        formatUsd(e.amount_micros),
        formatUsd(e.reserved_micros ?? 0),
        textCell(e.reason),
      ]
        .map(csvCell)
        .join(","),
    );
    c.header("Content-Disposition", `attachment; filename="ledger-${tenant.id}.csv"`);
    if (nextCursor) c.header("X-Next-Cursor", nextCursor);
    return c.body(`${[header, ...rows].join("\r\n")}\r\n`, 200, { "Content-Type": "text/csv; charset=utf-8" });
  })
  .post("/tenants/:id/adjustments", async (c) => {
    const tenant = await mustGetTenant(c.env, c.req.param("id"));
    const input = await parseBody(c, AdjustmentInput);
    const budgets = await tenantBudgets(c.env, tenant);
    const before = (await ledgerStub(c.env, tenant.id).usage(Date.now(), budgets)).map(scopeJson);
    const result = await ledgerStub(c.env, tenant.id).adjust(usdToMicros(input.amount_usd), input.reason, Date.now());
    const states = await ledgerStub(c.env, tenant.id).usage(Date.now(), budgets);
    auditAs(c, {
      action: input.amount_usd > 0 ? "tenant.credit" : "tenant.debit",
      target: `tenant:${tenant.id}`,
      before: { budgets: before },
      after: { entry_id: result.entry_id, amount_usd: input.amount_usd, reason: input.reason, budgets: states.map(scopeJson) },
    });
    return c.json({ entry_id: result.entry_id, amount_usd: input.amount_usd, reason: input.reason, budgets: states.map(scopeJson) }, 201);
  });

/** `http:` webhooks only where the deployment allows them (local testing), like every other URL. */
function checkWebhookUrl(url: string | null | undefined, config: Config): void {
  if (!url) return;
  if (!config.allowHttpUrls && !url.startsWith("https:")) throw invalidRequest([{ field: "webhook_url", message: "must be an https: URL" }]);
  // The proxy POSTs signed payloads there: it must not point inward (SPEC §5).
  const unsafe = config.allowPrivateUrls ? null : unsafeTargetReason(new URL(url));
  if (unsafe) throw invalidRequest([{ field: "webhook_url", message: unsafe }]);
}

function csvCell(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A text cell someone else chose (an end-user id, a reason, a model name): one that a spreadsheet
 * would read as a formula (leading =, +, -, @, tab or CR) gets a leading ' (OWASP CSV injection).
 * Numbers are written by `formatUsd` and never pass through here.
 */
function textCell(value: string | null): string {
  const s = value ?? "";
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}
