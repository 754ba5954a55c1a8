import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import { findTargetHandler, isMiddleware } from "hono/utils/handler";
import type { AppEnv } from "../env";
import { AppError } from "../lib/errors";
import { type LogFields, log } from "../lib/log";
import { flushSoon, metrics } from "../lib/metrics";

/** Adds fields to this request's access-log line (e.g. `charged_usd` once a handler knows it). */
export function logField(c: Context<AppEnv>, fields: LogFields): void {
  c.set("logFields", { ...c.get("logFields"), ...fields });
}

/**
 * The pattern of the route that serves this request (even when a middleware such as auth answered for it): the
 * first handler that matched, as the router runs them (a catch-all after it, like `/v1/*`, is not it); "-" when none does.
 */
export function handlerRoute(c: Context<AppEnv>): string {
  for (const route of matchedRoutes(c)) if (!isMiddleware(findTargetHandler(route.handler))) return route.path;
  return "-";
}

/**
 * One JSON line per request, written when the response is ready (a stream's duration is to its first byte):
 * request id, method, route pattern (never the raw path, which can carry a callback token), status, duration,
 * tenant and key ids when authenticated, the error code, and the estimate the response announced.
 * Never a header value, body, query or key.
 */
export const accessLog = createMiddleware<AppEnv>(async function accessLog(c, next) {
  const started = Date.now();
  await next();
  const auth = c.get("auth");
  const status = c.res.status;
  const estimate = c.res.headers.get("x-estimated-cost-usd");
  const route = c.get("routeLabel") ?? handlerRoute(c);
  const durationMs = Date.now() - started;
  metrics.request({ method: c.req.method, route, status, durationMs, tenantId: auth?.tenant.id });
  flushSoon(c.env, executionContext(c));
  log[status >= 500 ? "error" : status >= 400 ? "warn" : "info"]("request", {
    request_id: c.get("requestId"),
    method: c.req.method,
    route,
    status,
    duration_ms: durationMs,
    tenant_id: auth?.tenant.id,
    key_id: auth?.key.id,
    error_code: c.error instanceof AppError ? c.error.code : status >= 500 && c.error ? "internal_error" : undefined,
    estimate_usd: estimate === null ? undefined : Number(estimate),
    ...c.get("logFields"),
  });
});

/** The request's execution context, when it has one (`app.request` in a test has none). */
function executionContext(c: Context<AppEnv>): ExecutionContext | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}
