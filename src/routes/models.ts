import { Hono } from "hono";
import { CATALOG_AS_OF } from "../catalog/catalog";
import { indexSchedule } from "../domain/price-schedule";
import { tenantMarkup } from "../domain/tenant";
import type { AppEnv } from "../env";
import { sha256Hex } from "../lib/crypto";
import { activeMarkup, activeSchedule } from "../lib/price-store";
import { parseQuery } from "../lib/validate";
import { optionalTenantAuth } from "../middleware/auth";
import { catalogRows, catalogSource, ModelsQuery } from "./model-views";
import { tenantSchedules } from "./price-views";

/**
 * `GET /api/v1/models` (SPEC §12): the media catalog, one row per model × action with its modality, model line,
 * task type, required fields and price range. Public like RunAPI's catalog; a key shows that tenant's prices
 * and only the models it may use (`allowed_models`). Chat models are at `GET /v1/models`.
 */
export const models = new Hono<AppEnv>().get("/models", optionalTenantAuth, async (c) => {
  const filter = parseQuery(c, ModelsQuery);
  const [active, markup] = await Promise.all([activeSchedule(c.env.TENANTS), activeMarkup(c.env.TENANTS)]);
  const tenant = c.get("auth")?.tenant;
  const own = tenant ? tenantMarkup(tenant) : undefined;
  const allowed = tenant?.allowed_models ?? null;
  // The answer depends on the catalog, the schedule, the markups, what the tenant may use and the filters.
  const etag = `"${(await sha256Hex(JSON.stringify([CATALOG_AS_OF, active.etag, markup, own ?? null, allowed, filter]))).slice(0, 32)}"`;
  c.header("ETag", etag);
  c.header("Cache-Control", tenant ? "private, max-age=60" : "public, max-age=60");
  c.header("Vary", "Authorization, X-Api-Key", { append: true });
  if (c.req.header("if-none-match") === etag) return c.body(null, 304);
  const rows = catalogRows(indexSchedule(tenantSchedules(active, markup, own)), allowed, filter);
  return c.json({
    count: rows.length,
    source: catalogSource(),
    as_of: CATALOG_AS_OF,
    prices_as_of: active.as_of,
    currency: "USD",
    models: rows,
  });
});
