import { Hono } from "hono";
import type { AppEnv } from "../env";
import { budgetsFor, scopeJson } from "../domain/budgets";
import { actionsOfModel, allActions, type CatalogAction } from "../catalog/catalog";
import { isBackend, tenantMarkup, visibleScopes } from "../domain/tenant";
import { microsToUsd } from "../domain/money";
import { readJsonBody } from "../lib/body";
import { invalidRequest } from "../lib/errors";
import { activeMarkup, activeSchedule } from "../lib/price-store";
import { ledgerStub } from "../lib/stubs";
import { tenantAuth } from "../middleware/auth";
import { actionAt, priceFor, validatedRequest } from "./catalog";
import { scheduleEtag, tenantSchedules } from "./price-views";

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
    const [active, markup] = await Promise.all([activeSchedule(c.env.TENANTS), activeMarkup(c.env.TENANTS)]);
    const own = tenantMarkup(c.var.auth.tenant);
    const etag = await scheduleEtag(active, markup, own);
    c.header("ETag", etag);
    c.header("Cache-Control", "private, max-age=60");
    if (c.req.header("if-none-match") === etag) return c.body(null, 304);
    return c.json({
      currency: "USD",
      as_of: active.as_of,
      // Where the prices come from: RunAPI's live schedule (synced) or the proxy's bundled snapshot.
      schedule: { origin: active.origin, synced_at: active.synced_at === null ? null : new Date(active.synced_at).toISOString() },
      pricing_mode: c.var.config.pricingMode,
      prices: tenantSchedules(active, markup, own),
    });
  })
  .post("/estimate", async (c) => {
    // The body is a create body; its action is `?service=&action=`, or the one action that serves its model.
    const body = await readJsonBody(c);
    const actionParam = c.req.query("action") === undefined && c.req.query("endpoint") !== undefined ? "endpoint" : "action";
    const action = estimateAction(c.req.query("service"), c.req.query(actionParam), body, actionParam);
    const valid = validatedRequest(c, action, body);
    const price = await priceFor(c, action, valid);
    const states = await ledgerStub(c.env, c.var.auth.tenant.id).usage(Date.now(), budgetsFor(c.var.auth));
    const visible = visibleScopes(c.var.auth, states);
    return c.json({
      service: action.service,
      action: action.action,
      model: valid.request.model,
      // What the request will be rendered with: the fields that set its price, defaults filled in.
      params: valid.effective,
      estimated_cost_usd: microsToUsd(price.micros),
      price_source: price.source,
      price_basis: price.basis,
      budget: {
        remaining_usd: visible.length ? microsToUsd(Math.min(...visible.map((s) => s.remaining_micros))) : null,
        // Only from scopes the caller may see: a browser-side caller must not learn the tenant's remaining budget.
        would_exceed: visible.some((s) => s.remaining_micros < price.micros),
      },
    });
  });

/** The action an estimate is for: named in the query, else the one action serving the body's model (Hailuo's two by name). */
function estimateAction(service: string | undefined, action: string | undefined, body: unknown, param: string): CatalogAction {
  if (service && action) return actionAt(service, action);
  const model = body && typeof body === "object" ? (body as { model?: unknown }).model : undefined;
  const name = typeof model === "string" ? model.replace(/^hailuo-2-3-/, "hailuo-2.3-") : "";
  const serving = actionsOfModel(name).filter((a) => !service || a.service === service.replaceAll("_", "-"));
  if (action) {
    // The action named wins; validation then says when the model is not one of its models.
    const named = allActions().find(
      (a) => a.action === action && (service ? a.service === service.replaceAll("_", "-") : serving.some((s) => s.service === a.service)),
    );
    if (named) return named;
    throw invalidRequest([{ field: param, message: `no action ${action} serves ${name || "this body"}` }]);
  }
  if (serving.length === 1) return serving[0]!;
  throw invalidRequest([
    {
      field: serving.length ? "action" : "model",
      message: serving.length
        ? `${name} is served by ${serving.map((a) => `${a.service}/${a.action}`).join(" and ")}: say which with ?service=&action=`
        : "must be a catalog model (or name the action with ?service=&action=)",
    },
  ]);
}
