import { Hono } from "hono";
import { findAction, isService } from "../catalog/catalog";
import { chatCostMicros, outputTokenBound } from "../domain/chat-pricing";
import { withMarkup } from "../domain/markup";
import type { AppEnv } from "../env";
import { budgetsFor } from "../domain/budgets";
import { MICROS_PER_CENT, type Micros } from "../domain/money";
import { isBackend, tenantMarkup, visibleScopes } from "../domain/tenant";
import type { ScopeBudget } from "../domain/ledger";
import { readJsonBody } from "../lib/body";
import { invalidRequest, type FieldIssue } from "../lib/errors";
import { activeMarkup, activeSchedule } from "../lib/price-store";
import { ledgerStub } from "../lib/stubs";
import { optionalTenantAuth, tenantAuth } from "../middleware/auth";
import { chatPricing } from "../lib/pricing";
import { priceFor, quotedRequest } from "./catalog";
import { filterSchedules, scheduleEtag, tenantSchedules } from "./price-views";

/** RunAPI's service and action names for chat completions, in quotes. */
export const CHAT_SERVICE = "chat";
export const CHAT_ACTION = "chat_completions";

/** Micro-dollars → RunAPI's cents (a number; fractional where the price is). */
const cents = (micros: Micros) => micros / MICROS_PER_CENT;

/** RunAPI's account and pricing endpoints, as its SDKs and MCP servers call them, answered from the proxy's own state. */
export const runapiAccount = new Hono<AppEnv>()
  .get("/me/balance", tenantAuth, async (c) => {
    const auth = c.var.auth;
    const now = Date.now();
    const budgets = budgetsFor(auth);
    const ledger = ledgerStub(c.env, auth.tenant.id);
    const visible = visibleScopes(auth, await ledger.usage(now, budgets));
    // Spend is the tenant's for its own servers; a browser caller sees its end user's (or its key's), never the tenant's.
    const own: Omit<ScopeBudget, "period" | "limit_micros"> = isBackend(auth)
      ? { scope: "tenant", subject: auth.tenant.id }
      : auth.endUser
        ? { scope: "end_user", subject: auth.endUser }
        : { scope: "key", subject: auth.key.id };
    const [today, total] = await ledger.usage(now, [
      { ...own, period: "day", limit_micros: 0 },
      { ...own, period: "total", limit_micros: 0 },
    ]);
    const remaining = visible.length ? Math.min(...visible.map((s) => s.remaining_micros)) : null;
    return c.json({
      balance_cents: remaining === null ? null : cents(remaining),
      paid_balance_cents: remaining === null ? null : cents(remaining),
      bonus_balance_cents: 0,
      spent_cents_today: cents(today!.spent_micros),
      spent_cents_total: cents(total!.spent_micros),
      currency: "USD",
      scope: own.scope,
      reserved_cents: cents(today!.reserved_micros),
    });
  })
  // Public, as RunAPI's is (its MCP servers read it without a key): a caller with a key sees its own prices.
  .get("/price_schedules", optionalTenantAuth, async (c) => {
    const [active, markup] = await Promise.all([activeSchedule(c.env.TENANTS), activeMarkup(c.env.TENANTS)]);
    const own = c.get("auth") ? tenantMarkup(c.var.auth.tenant) : undefined;
    const etag = await scheduleEtag(active, markup, own);
    c.header("ETag", etag);
    c.header("Cache-Control", own ? "private, max-age=60" : "public, max-age=60");
    if (c.req.header("if-none-match") === etag) return c.body(null, 304);
    const { service, action, model } = c.req.query();
    return c.json({ as_of: active.as_of, price_schedules: filterSchedules(tenantSchedules(active, markup, own), { service, action, model }) });
  })
  .post("/price_quotes", tenantAuth, async (c) => {
    const body = await readJsonBody(c);
    if (!body || typeof body !== "object" || Array.isArray(body)) throw invalidRequest([{ field: "", message: "must be a JSON object" }]);
    const { service, action: actionName, model, params = {} } = body as Record<string, unknown>;
    const issues: FieldIssue[] = [];
    if (typeof service !== "string") issues.push({ field: "service", message: "is required: a RunAPI service slug" });
    if (typeof actionName !== "string") issues.push({ field: "action", message: "is required: a RunAPI action (endpoint)" });
    if (model !== undefined && model !== null && typeof model !== "string") issues.push({ field: "model", message: "must be a string" });
    if (typeof params !== "object" || params === null || Array.isArray(params)) issues.push({ field: "params", message: "must be an object" });
    if (issues.length) throw invalidRequest(issues);
    const quote = (micros: Micros, basis: string, q: { service: string; action: string; model: string | null }) =>
      c.json({
        price_quote: {
          ...q,
          pricing_status: "available",
          currency: "USD",
          reservation_amount_cents: cents(micros),
          estimate_basis: basis,
          as_of: new Date().toISOString(),
        },
      });
    if (service === CHAT_SERVICE) {
      const p = params as { input_tokens?: unknown; max_tokens?: unknown };
      for (const f of ["input_tokens", "max_tokens"] as const) {
        if (p[f] !== undefined && !(typeof p[f] === "number" && Number.isInteger(p[f]) && (p[f] as number) >= 0))
          issues.push({ field: `params.${f}`, message: "must be a non-negative integer" });
      }
      if (typeof model !== "string") issues.push({ field: "model", message: "is required: a chat model" });
      if (issues.length) throw invalidRequest(issues);
      const pricing = await chatPricing(c.env.TENANTS, model as string, tenantMarkup(c.var.auth.tenant));
      const output = outputTokenBound(pricing.rates, { max_tokens: p.max_tokens });
      const cost = chatCostMicros(pricing.rates, (p.input_tokens as number | undefined) ?? 0, output);
      return quote(withMarkup(cost, pricing.markupPercent), `input_tokens + ${output} output tokens (the model's cap bounds max_tokens)`, {
        service: CHAT_SERVICE,
        action: CHAT_ACTION,
        model: model as string,
      });
    }
    const action = findAction(service as string, actionName as string);
    if (!action) {
      throw invalidRequest([
        isService(service as string)
          ? { field: "action", message: `${service} has no action ${actionName}; GET /api/v1/models lists the catalog` }
          : { field: "service", message: `unknown RunAPI service ${service}; GET /api/v1/models lists the catalog` },
      ]);
    }
    // A quote prices the fields that change the price: required fields that do not (a prompt, an image) need not be sent.
    const valid = quotedRequest(c, action, { ...(params as object), ...(typeof model === "string" ? { model } : {}) });
    const price = await priceFor(c, action, valid);
    return quote(price.micros, `${price.basis} (${price.source})`, { service: action.service, action: action.action, model: valid.request.model });
  });
