import { Hono } from "hono";
import type { AppEnv } from "../env";
import { auditWrites } from "../middleware/audit";
import { operatorAuth } from "../middleware/auth";
import { admin } from "./admin";
import { adminCapacity } from "./admin-capacity";
import { adminInsights } from "./admin-insights";
import { adminKeys } from "./admin-keys";
import { adminPrices } from "./admin-prices";
import { metricsRoute } from "./metrics";
import { operators } from "./operators";

/**
 * The operator API at `/admin/v1` (SPEC §3, §15): one authentication and role check for every route
 * (`ADMIN_TOKEN` or an operator token), and every successful write appended to the audit log.
 */
export const operatorApi = new Hono<AppEnv>()
  .use(operatorAuth)
  .use(auditWrites)
  .route("/", admin)
  .route("/", adminKeys)
  .route("/", adminInsights)
  .route("/", adminPrices)
  .route("/", adminCapacity)
  .route("/", operators)
  .route("/", metricsRoute);
