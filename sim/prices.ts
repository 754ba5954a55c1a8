import { Hono } from "hono";
import { z } from "zod";
import { findAction } from "../src/catalog/catalog";
import { readJson, SimError, simState, type SimApp } from "./env";
import { etagOf, filterSchedule, matchesEtag, type SimSchedule } from "./schedule";
import { checkRequest, issuesText } from "./validate";

/** How long a quote is valid. */
export const QUOTE_TTL_MS = 15 * 60 * 1000;

const QuoteSchema = z.object({
  service: z.string().min(1),
  action: z.string().min(1),
  model: z.string().min(1).nullish(),
  params: z.record(z.string(), z.unknown()).nullish(),
});

/**
 * RunAPI's pricing and account routes, from the simulator's own schedule and evaluator: the schedule
 * (public, with a strong ETag and `If-None-Match` → 304, filtered by service/action/model), price quotes, and
 * the balance.
 */
export const prices = new Hono<SimApp>()
  .get("/price_schedules", async (c) => {
    const doc = JSON.parse(await simState(c.env).schedule()) as SimSchedule;
    const body = JSON.stringify(filterSchedule(doc, { service: c.req.query("service"), action: c.req.query("action"), model: c.req.query("model") }));
    const etag = await etagOf(body);
    const headers = { ETag: etag, "Cache-Control": "no-cache" };
    if (matchesEtag(c.req.header("if-none-match"), etag)) return c.body(null, 304, headers);
    return c.body(body, 200, { ...headers, "Content-Type": "application/json" });
  })
  .post("/price_quotes", async (c) => {
    const parsed = QuoteSchema.safeParse(await readJson(c));
    if (!parsed.success) throw new SimError(400, "invalid_request", parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
    const { service, action: actionName, params = {} } = parsed.data;
    let model = parsed.data.model ?? null;
    if (service !== "chat") {
      const action = findAction(service, actionName);
      if (!action) throw new SimError(400, "invalid_request", `No RunAPI action ${service}/${actionName}`);
      // The params are checked as a create's would be, except that required fields need not be sent.
      const checked = checkRequest(action, { ...(params ?? {}), ...(model !== null && action.takesModel ? { model } : {}) }, { partial: true });
      if (!checked.ok) throw new SimError(400, "invalid_request", issuesText(checked.issues));
      if (model !== null && action.models.length > 0 && !action.models.includes(model))
        throw new SimError(400, "invalid_request", `model: unknown model ${model}`);
      model ??= checked.model;
    }
    const price = await simState(c.env).price(service, actionName, model, params ?? {});
    if (!price.ok) throw new SimError(price.status, price.code, price.reason);
    return c.json({
      price_quote: {
        id: `pq_${crypto.randomUUID()}`,
        service,
        action: actionName,
        model,
        pricing_status: "available",
        currency: "USD",
        reservation_amount_cents: price.quoteCents,
        estimate_basis: price.basis,
        as_of: price.as_of,
        expires_at: new Date(Date.now() + QUOTE_TTL_MS).toISOString(),
      },
    });
  })
  .get("/me/balance", (c) => c.json({ balance_cents: 100_000, currency: "USD" }));
