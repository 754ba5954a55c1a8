import { createMiddleware } from "hono/factory";
import { loadConfig, type AppEnv } from "../env";

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** Gives every request an id (the caller's `X-Request-Id` when sane), echoes it on the response, and loads the checked config. */
export const requestContext = createMiddleware<AppEnv>(async function requestContext(c, next) {
  const incoming = c.req.header("x-request-id");
  const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : `req_${crypto.randomUUID().replace(/-/g, "")}`;
  c.set("requestId", requestId);
  c.header("X-Request-Id", requestId);
  if (c.req.path !== "/health") c.set("config", loadConfig(c.env));
  await next();
  c.res.headers.set("X-Request-Id", requestId);
});
