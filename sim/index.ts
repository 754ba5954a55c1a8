import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { control } from "./control";
import { handleSimError, SimError, simState, type SimApp, type SimEnv } from "./env";
import { hailuo } from "./hailuo";
import { openai } from "./openai";
import { account } from "./quotes";
import { videoControl, videoFiles } from "./videos";
import { turnstile } from "./turnstile";

export { SimState } from "./state";
export type { SimEnv } from "./env";

/** Records every request on the RunAPI routes (rejected ones too), then checks the upstream key. */
export const recordAndAuthorize = createMiddleware<SimApp>(async function recordAndAuthorize(c, next) {
  const url = new URL(c.req.url);
  await simState(c.env).record({
    method: c.req.method,
    path: url.pathname + url.search,
    headers: Object.fromEntries(c.req.raw.headers),
    body: await c.req.text(),
    at: new Date().toISOString(),
  });
  const key = c.env.SIM_API_KEY;
  if (!key) throw new SimError(500, "misconfigured", "The simulator is misconfigured: SIM_API_KEY is not set");
  if (c.req.header("authorization") !== `Bearer ${key}`) throw new SimError(401, "unauthorized", "Invalid API key");
  await next();
});

/** The RunAPI simulator: RunAPI's Hailuo, account and OpenAI-compatible routes, plus the `/__sim` control API. */
export const app = new Hono<SimApp>()
  .use("/api/*", recordAndAuthorize)
  .use("/v1/*", recordAndAuthorize)
  .route("/api/v1/hailuo", hailuo)
  .route("/api/v1", account)
  .route("/v1", openai)
  .route("/videos", videoFiles)
  .route("/__sim/videos", videoControl)
  .route("/__sim", control)
  .route("/turnstile", turnstile)
  .notFound((c) => c.json({ error: { code: "not_found", message: `No route for ${c.req.method} ${c.req.path}` } }, 404))
  .onError(handleSimError);

export default app satisfies ExportedHandler<SimEnv>;
