import { Hono } from "hono";
import type { AppEnv } from "../env";
import { budgetsFor } from "../domain/budgets";
import { chatCostMicros, type ChatPrice } from "../domain/chat-pricing";
import { ENDPOINTS, type Endpoint } from "../domain/hailuo";
import { MICROS_PER_CENT, type Micros } from "../domain/money";
import type { PriceTable } from "../domain/pricing";
import { isBackend, visibleScopes } from "../domain/tenant";
import type { ScopeBudget } from "../domain/ledger";
import { readJsonBody } from "../lib/body";
import { invalidRequest, type FieldIssue } from "../lib/errors";
import { activeChatPrices, activePriceTable, estimate } from "../lib/price-store";
import { ledgerStub } from "../lib/stubs";
import { tenantAuth } from "../middleware/auth";
import { RunApiClient } from "../upstream/runapi";
import { validatedRequest } from "./hailuo";

/** RunAPI's service and action names for what the proxy sells. */
export const CHAT_SERVICE = "chat";
export const CHAT_ACTION = "chat_completions";

/** Micro-dollars → RunAPI's cents (a number; fractional where the price is). */
const cents = (micros: Micros) => micros / MICROS_PER_CENT;

const NULL_TOKEN_PRICES = {
  input_price_per_1m_cents: null,
  output_price_per_1m_cents: null,
  cache_read_price_per_1m_cents: null,
  cache_write_price_per_1m_cents: null,
  cache_write_5m_price_per_1m_cents: null,
  cache_write_1h_price_per_1m_cents: null,
};

/** The proxy's prices as RunAPI's price schedules: one per video model (priced per task) and one per chat model (per token). */
export function priceSchedules(table: PriceTable, chat: ChatPrice[]) {
  const byModel = new Map<string, PriceTable>();
  for (const cell of table) byModel.set(cell.model, [...(byModel.get(cell.model) ?? []), cell]);
  const video = [...byModel].map(([model, cells]) => ({
    service: "hailuo",
    action: cells[0]!.model.includes("text-to-video") ? "text_to_video" : "image_to_video",
    model,
    pricing_status: "available",
    catalog_status: "active",
    currency: "USD",
    billing_unit: "task",
    billing_strategy: "per_task_by_params",
    unit_price_cents: cents(Math.min(...cells.map((c) => c.price_micros))),
    ...NULL_TOKEN_PRICES,
    billing_config: {
      key: "duration_seconds/output_resolution",
      overrides: Object.fromEntries(cells.map((c) => [`${c.duration_seconds}/${c.output_resolution}`, cents(c.price_micros)])),
      sources: Object.fromEntries(cells.map((c) => [`${c.duration_seconds}/${c.output_resolution}`, c.source])),
    },
  }));
  const tokens = chat.map((p) => ({
    service: CHAT_SERVICE,
    action: CHAT_ACTION,
    model: p.model,
    pricing_status: "available",
    catalog_status: "active",
    currency: "USD",
    billing_unit: "token",
    billing_strategy: "per_token",
    unit_price_cents: null,
    ...NULL_TOKEN_PRICES,
    input_price_per_1m_cents: cents(p.input_micros_per_1m),
    output_price_per_1m_cents: cents(p.output_micros_per_1m),
    billing_config: { max_output_tokens: p.max_output_tokens, source: p.source },
  }));
  return [...video, ...tokens];
}

const positiveInt = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0;

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
  .get("/price_schedules", tenantAuth, async (c) => {
    const [{ table }, { prices }] = await Promise.all([activePriceTable(c.env.TENANTS), activeChatPrices(c.env.TENANTS)]);
    const { service, action, model } = c.req.query();
    const schedules = priceSchedules(table, prices).filter(
      (s) => (!service || s.service === service) && (!action || s.action === action) && (!model || s.model === model),
    );
    return c.json({ as_of: new Date().toISOString(), price_schedules: schedules });
  })
  .post("/price_quotes", tenantAuth, async (c) => {
    const body = (await readJsonBody(c)) as Record<string, unknown> | null;
    const issues: FieldIssue[] = [];
    if (!body || typeof body !== "object" || Array.isArray(body)) throw invalidRequest([{ field: "", message: "must be a JSON object" }]);
    const params = body.params ?? {};
    if (typeof params !== "object" || params === null || Array.isArray(params)) issues.push({ field: "params", message: "must be an object" });
    const quote = (amount: Micros, basis: string, model: string) =>
      c.json({
        price_quote: {
          service: body.service,
          action: body.action,
          model,
          pricing_status: "available",
          currency: "USD",
          reservation_amount_cents: cents(amount),
          estimate_basis: basis,
          as_of: new Date().toISOString(),
        },
      });

    if (body.service === CHAT_SERVICE) {
      const { prices } = await activeChatPrices(c.env.TENANTS);
      const price = prices.find((p) => p.model === body.model);
      if (body.action !== CHAT_ACTION) issues.push({ field: "action", message: `must be ${CHAT_ACTION}` });
      if (!price) issues.push({ field: "model", message: `must be a priced chat model: ${prices.map((p) => p.model).join(", ")}` });
      const p = params as { input_tokens?: unknown; max_tokens?: unknown };
      if (p.input_tokens !== undefined && !positiveInt(p.input_tokens))
        issues.push({ field: "params.input_tokens", message: "must be a non-negative integer" });
      if (p.max_tokens !== undefined && !positiveInt(p.max_tokens)) issues.push({ field: "params.max_tokens", message: "must be a non-negative integer" });
      if (issues.length || !price) throw invalidRequest(issues);
      const output = (p.max_tokens as number | undefined) ?? price.max_output_tokens;
      return quote(
        chatCostMicros(price, (p.input_tokens as number | undefined) ?? 0, output),
        `input_tokens + ${output} output tokens at the proxy's chat price`,
        price.model,
      );
    }
    if (body.service !== "hailuo") issues.push({ field: "service", message: `must be hailuo or ${CHAT_SERVICE}` });
    if (!ENDPOINTS.includes(body.action as Endpoint)) issues.push({ field: "action", message: `must be one of ${ENDPOINTS.join(", ")}` });
    if (issues.length) throw invalidRequest(issues);
    const endpoint = body.action as Endpoint;
    // A quote needs no prompt or image: stand-ins keep validation to what changes the price.
    const standIns: Record<string, unknown> = { prompt: "price quote" };
    if (endpoint === "image_to_video") standIns.first_frame_image_url = "https://quote.invalid/frame.png";
    const request = validatedRequest(c, endpoint, { ...standIns, ...(params as object), model: body.model });
    const price = await estimate(c.env.TENANTS, c.var.config, new RunApiClient(c.var.config, c.env.RUNAPI), request);
    return quote(price.micros, `${request.duration_seconds} s ${request.output_resolution} (${price.source})`, request.model);
  });
