import { Hono } from "hono";
import type { AppEnv } from "../env";
import { budgetsFor, scopeJson } from "../domain/budgets";
import { isBackend, visibleScopes } from "../domain/tenant";
import { ENDPOINTS, type Endpoint } from "../domain/hailuo";
import { microsToUsd } from "../domain/money";
import { priceTableJson } from "../domain/pricing";
import { readJsonBody } from "../lib/body";
import { invalidRequest } from "../lib/errors";
import { activeChatPrices, activePriceTable, estimate } from "../lib/price-store";
import { chatPricesJson } from "../domain/chat-pricing";
import { ledgerStub } from "../lib/stubs";
import { tenantAuth } from "../middleware/auth";
import { RunApiClient } from "../upstream/runapi";
import { validatedRequest } from "./hailuo";

/** What a tenant can ask about itself: who it is, what things cost, what a request would cost. */
export const account = new Hono<AppEnv>()
  .use(tenantAuth)
  .get("/me", async (c) => {
    const { tenant, key, endUser, via } = c.var.auth;
    const ledger = ledgerStub(c.env, tenant.id);
    const states = await ledger.usage(Date.now(), budgetsFor(c.var.auth));
    // A browser-side caller (publishable key, end-user token) sees its own scopes, not the tenant's business.
    const backend = isBackend(c.var.auth);
    const visible = visibleScopes(c.var.auth, states);
    return c.json({
      // RunAPI's account fields (its SDKs' `account.info()`): the key is the user, the tenant its account.
      id: key.id,
      name: (backend ? key.name : null) ?? tenant.name,
      account: { id: tenant.id, name: tenant.name },
      tenant: { id: tenant.id, name: tenant.name },
      // A browser-side caller does not learn what the tenant named its key.
      key: { id: key.id, kind: key.kind, ...(backend ? { name: key.name } : {}), expires_at: key.expires_at },
      via,
      end_user: endUser,
      budgets: Object.fromEntries(visible.map((s) => [s.scope, scopeJson(s)])),
      ...(backend ? { limits: tenant.limits, allowed_models: tenant.allowed_models } : {}),
      ...(backend ? { video_storage: await ledger.videoStorage(Date.now(), c.var.config.videoRetentionMs) } : {}),
    });
  })
  .get("/prices", async (c) => {
    const { table, overridden } = await activePriceTable(c.env.TENANTS);
    const chat = await activeChatPrices(c.env.TENANTS);
    return c.json({ ...priceTableJson(table), overridden, pricing_mode: c.var.config.pricingMode, chat_prices: chatPricesJson(chat.prices) });
  })
  .post("/estimate", async (c) => {
    // The body is a create body; its endpoint follows from its model unless ?endpoint= says.
    const body = await readJsonBody(c);
    const endpoint = (c.req.query("endpoint") ?? endpointFromBody(body)) as Endpoint;
    if (!ENDPOINTS.includes(endpoint)) throw invalidRequest([{ field: "endpoint", message: `must be one of ${ENDPOINTS.join(", ")}` }]);
    const request = validatedRequest(c, endpoint, body);
    const price = await estimate(c.env.TENANTS, c.var.config, new RunApiClient(c.var.config, c.env.RUNAPI), request);
    const states = await ledgerStub(c.env, c.var.auth.tenant.id).usage(Date.now(), budgetsFor(c.var.auth));
    const visible = visibleScopes(c.var.auth, states);
    return c.json({
      model: request.model,
      duration_seconds: request.duration_seconds,
      output_resolution: request.output_resolution,
      estimated_cost_usd: microsToUsd(price.micros),
      price_source: price.source,
      budget: {
        remaining_usd: visible.length ? microsToUsd(Math.min(...visible.map((s) => s.remaining_micros))) : null,
        // Only from scopes the caller may see: a browser-side caller must not learn the tenant's remaining budget.
        would_exceed: visible.some((s) => s.remaining_micros < price.micros),
      },
    });
  });

/** text_to_video for models with "text-to-video" in their name, else image_to_video (validation names a bad model). */
function endpointFromBody(body: unknown): Endpoint {
  const model = body && typeof body === "object" ? (body as { model?: unknown }).model : undefined;
  return typeof model === "string" && model.includes("text-to-video") ? "text_to_video" : "image_to_video";
}
