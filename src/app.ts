import { Hono } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { CachedRouter } from "./lib/cached-router";
import type { AppEnv } from "./env";
import { errorBody, handleError } from "./lib/errors";
import { accessLog } from "./middleware/access-log";
import { browserShield } from "./middleware/browser-shield";
import { requestContext } from "./middleware/request-context";
import { account } from "./routes/account";
import { dashboard } from "./routes/dashboard";
import { demo } from "./routes/demo";
import { docs } from "./routes/docs";
import { endUserTokens } from "./routes/end-user-tokens";
import { catalogRoutes } from "./routes/catalog";
import { mcp } from "./routes/mcp/server";
import { models } from "./routes/models";
import { openai } from "./routes/openai";
import { operatorApi } from "./routes/operator-api";
import { runapiAccount } from "./routes/runapi-account";
import { tasks } from "./routes/tasks";
import { files, uploads } from "./routes/uploads";
import { media, videos } from "./routes/media";
import { runapiCallbacks } from "./routes/webhooks";

// Front-end apps call with publishable keys; their origins are checked per key by tenantAuth.
const browserCors = cors({
  origin: (origin) => origin,
  allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Api-Key", "X-Request-Id", "X-Turnstile-Token"],
  exposeHeaders: ["X-Request-Id", "X-Estimated-Cost-Usd", "X-Budget-Remaining-Usd", "X-Charged-Usd", "Retry-After"],
  maxAge: 600,
});
/** CORS for a browser's request (it sends `Origin`); a server's call only learns that the answer varies by origin. */
const tenantCors = createMiddleware<AppEnv>(async function tenantCors(c, next) {
  if (c.req.header("origin") !== undefined) return browserCors(c, next);
  await next();
  c.header("Vary", "Origin", { append: true });
});

/** The proxy: global middleware, the tenant and operator APIs, RunAPI's callback, one error format. */
export const app = new Hono<AppEnv>({ router: new CachedRouter() })
  .use(accessLog)
  .use(requestContext)
  .use("/api/*", tenantCors)
  .use("/v1/*", tenantCors)
  .use("/api/*", browserShield)
  .use("/v1/*", browserShield)
  .get("/health", (c) => c.json({ ok: true }))
  .route("/demo", demo)
  .route("/api/v1/tasks", tasks)
  .route("/api/v1/end_user_tokens", endUserTokens)
  // Public routes (a key optional) before `account`, whose tenant auth covers the rest of /api/v1.
  .route("/api/v1", models)
  .route("/api/v1", runapiAccount)
  .route("/api/v1", account)
  .route("/api/v1/files", files)
  // Every RunAPI action, last: the routes above own their paths.
  .route("/api/v1", catalogRoutes)
  // Before openai: its catch-all answers every other /v1 path.
  .route("/v1/uploads", uploads)
  .route("/v1", openai)
  // MCP tools call the app itself in-process, so they share every rule of the HTTP API.
  .route(
    "/mcp",
    mcp((request, env, ctx): Promise<Response> => Promise.resolve(app.fetch(request, env, ctx))),
  )
  .route("/webhooks", runapiCallbacks)
  .route("/media", media)
  .route("/videos", videos)
  .route("/admin/v1", operatorApi)
  .route("/", docs)
  .route("/", dashboard)
  .notFound((c) => c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}`, c.get("requestId") ?? "unknown"), 404))
  .onError(handleError);
