import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AuditDraft } from "../domain/operators";
import type { AppEnv } from "../env";
import { log } from "../lib/log";
import { operatorLog } from "../lib/stubs";
import { handlerRoute } from "./access-log";

/** Says what this operator write changed (action, target, before → after) for the audit log; secrets are redacted on the way in. */
export function auditAs(c: Context<AppEnv>, draft: AuditDraft): void {
  c.set("audit", draft);
}

/**
 * Appends every successful operator write to the audit log, after it is made: what the handler said with
 * `auditAs`, or at least the method, route and path. Reads and refused requests change nothing and are not logged.
 */
export const auditWrites = createMiddleware<AppEnv>(async function auditWrites(c, next) {
  await next();
  const method = c.req.method;
  if (method === "GET" || method === "HEAD" || method === "OPTIONS" || c.res.status >= 400) return;
  const operator = c.get("operator");
  if (!operator) return;
  const draft = c.get("audit") ?? { action: `${method} ${handlerRoute(c)}`, target: c.req.path };
  try {
    await operatorLog(c.env).append(operator, draft, c.get("requestId"), c.res.status);
  } catch (err) {
    // The write is made and answered; the missing entry must be loud.
    log.error("audit_append_failed", {
      request_id: c.get("requestId"),
      action: draft.action,
      target: draft.target,
      error: err instanceof Error ? err.name : "unknown",
    });
  }
});
