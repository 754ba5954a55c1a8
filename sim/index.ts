import { Hono, type HonoRequest } from "hono";
import { createMiddleware } from "hono/factory";
import { control } from "./control";
import { handleSimError, SimError, simState, type SimApp, type SimEnv } from "./env";
import { openai } from "./openai";
import { prices } from "./prices";
import { tasks } from "./tasks";
import { turnstile } from "./turnstile";
import { files, storage, uploads } from "./uploads";
import { taskFiles, videoControl, videoFiles } from "./videos";

export { SimState } from "./state";
export type { SimEnv } from "./env";

/** The most of a request body the record keeps (a 20 MiB upload is not kept whole). */
const MAX_RECORDED_BODY = 64 * 1024;

/** Routes RunAPI serves without a key (a key, when sent, must still be the right one). */
const PUBLIC = new Set(["GET /api/v1/price_schedules"]);

/** A body as the record keeps it: text as sent (cut at 64 KiB), anything else as its size and type. */
async function recordedBody(req: HonoRequest): Promise<string> {
  const type = req.header("content-type") ?? "";
  if (type === "" || /json|text|x-www-form-urlencoded/.test(type)) return (await req.text()).slice(0, MAX_RECORDED_BODY);
  const bytes = (await req.arrayBuffer()).byteLength;
  return `[${bytes} bytes of ${type}]`;
}

/** Records every request on the RunAPI routes (rejected ones too), then checks the upstream key. */
export const recordAndAuthorize = createMiddleware<SimApp>(async function recordAndAuthorize(c, next) {
  const url = new URL(c.req.url);
  await simState(c.env).record({
    method: c.req.method,
    path: url.pathname + url.search,
    headers: Object.fromEntries(c.req.raw.headers),
    body: await recordedBody(c.req),
    at: new Date().toISOString(),
  });
  const key = c.env.SIM_API_KEY;
  if (!key) throw new SimError(500, "misconfigured", "The simulator is misconfigured: SIM_API_KEY is not set");
  const auth = c.req.header("authorization");
  if (auth === undefined && PUBLIC.has(`${c.req.method} ${url.pathname}`)) return next();
  if (auth !== `Bearer ${key}`) throw new SimError(401, "unauthorized", "Invalid API key");
  await next();
});

/**
 * The RunAPI simulator: every catalog action (create, status, callbacks, synchronous answers), prices and
 * quotes from its own schedule, uploads, account and OpenAI-compatible routes, the files it serves, and the
 * `/__sim` control API.
 */
export const app = new Hono<SimApp>()
  .use("/api/*", recordAndAuthorize)
  .use("/v1/*", recordAndAuthorize)
  .route("/api/v1", prices)
  .route("/api/v1/files", files)
  .route("/api/v1", tasks)
  .route("/v1/uploads", uploads)
  .route("/v1", openai)
  .route("/videos", videoFiles)
  .route("/files", taskFiles)
  .route("/", storage)
  .route("/__sim/videos", videoControl)
  .route("/__sim", control)
  .route("/turnstile", turnstile)
  .notFound((c) => c.json({ error: { code: "not_found", message: `No route for ${c.req.method} ${c.req.path}` } }, 404))
  .onError(handleSimError);

export default app satisfies ExportedHandler<SimEnv>;
