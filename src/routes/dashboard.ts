import { Hono } from "hono";
import type { AppEnv } from "../env";
import { ADMIN_PAGE } from "../pages/admin-page";
import { PAGE_CSP } from "./docs";

/** `GET /admin`: the operator dashboard. The page holds no data; it signs in and reads the operator API. */
export const dashboard = new Hono<AppEnv>().get("/admin", (c) =>
  c.html(ADMIN_PAGE, 200, { "Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store", "X-Frame-Options": "DENY" }),
);
