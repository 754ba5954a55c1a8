import { Hono } from "hono";
import type { AppEnv } from "../env";
import { openApiDocument } from "../openapi/document";
import { DOCS_PAGE } from "../pages/docs-page";

/** Pages load nothing from elsewhere: scripts and styles are inline, data comes from this origin. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The API described (`/openapi.json`, OpenAPI 3.1 from the routes' zod schemas) and rendered (`/docs`). */
export const docs = new Hono<AppEnv>()
  .get("/openapi.json", (c) => c.json(openApiDocument(c.var.config.publicBaseUrl ?? new URL(c.req.url).origin)))
  .get("/docs", (c) => c.html(DOCS_PAGE, 200, { "Content-Security-Policy": PAGE_CSP }));
