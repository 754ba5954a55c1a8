// `npm start`: the proxy in local workerd on http://127.0.0.1:${PORT:-8787} (SPEC §6).
// With no RUNAPI_BASE_URL it also runs the RunAPI simulator on PORT+1 (or SIM_PORT),
// points the proxy at it over HTTP, and seeds a demo tenant with a key, so everything
// works offline. State persists under .wrangler/state; generated local secrets and the
// demo key under .wrangler/local-secrets.json.

import { join } from "node:path";
import { Miniflare } from "miniflare";
import {
  bundleWorkers,
  client,
  ensureTenant,
  envVar,
  issueKey,
  LOCAL_UPSTREAM_KEY,
  miniflareOptions,
  PASSED_VARS,
  portFrom,
  randomToken,
  readJsonFile,
  readWranglerConfig,
  ROOT,
  waitHealthy,
  writeJsonFile,
} from "./local.mjs";
import { createLogPrinter } from "./log-format.mjs";

const HOST = "127.0.0.1";
const SECRETS_FILE = join(ROOT, ".wrangler", "local-secrets.json");
const PERSIST_ROOT = join(ROOT, ".wrangler", "state", "v3"); // where `wrangler dev` keeps local state too
const BUILD_DIR = join(ROOT, ".wrangler", "local");
const SIM_VARS = ["SIM_PROCESSING_AFTER_MS", "SIM_COMPLETE_AFTER_MS", "SIM_SLOW_MS"];

const DEMO_TENANT = {
  id: "demo",
  name: "Demo tenant",
  budget: { limit_usd: 5, period: "day" },
  limits: { max_concurrent_tasks: 5, requests_per_minute: 30 },
  // Each visitor of the demo page (client IP; IPv6 per /64) may spend this much.
  end_user_budget: { limit_usd: 2, period: "day" },
};
/** The demo page's publishable key: each visitor gets this many creates a minute. */
const DEMO_PAGE_RPM = 5;
/** What the demo page offers (the key's allowed_models): Hailuo, two image lines and one more video model. */
const DEMO_PAGE_MODELS = ["hailuo", "flux/text_to_image", "seedream/text_to_image", "kling-v2.6"];

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

const port = portFrom("PORT", 8787);
const simMode = envVar("RUNAPI_BASE_URL") === undefined;
const simPort = simMode ? portFrom("SIM_PORT", port + 1) : undefined;
if (simPort === port || simPort > 65535) fail("SIM_PORT must be a free port other than PORT");

const upstreamKey = envVar("RUNAPI_API_KEY") ?? (simMode ? LOCAL_UPSTREAM_KEY : undefined);
if (upstreamKey === undefined) fail("RUNAPI_BASE_URL is set, so RUNAPI_API_KEY must be set too (your RunAPI key)");

// Secrets not given in the environment are generated once and kept stable across restarts.
const saved = await readJsonFile(SECRETS_FILE);
saved.admin_token ??= randomToken("adm_local_");
saved.signing_secret ??= randomToken("sig_local_", 32);
const adminToken = envVar("ADMIN_TOKEN") ?? saved.admin_token;
if (adminToken.length < 16) fail("ADMIN_TOKEN must be at least 16 characters");
await writeJsonFile(SECRETS_FILE, saved, { secret: true });

const wrangler = await readWranglerConfig();
const proxyVars = { ...wrangler.vars };
for (const name of PASSED_VARS) {
  const value = envVar(name);
  if (value !== undefined) proxyVars[name] = value;
}
proxyVars.RUNAPI_API_KEY = upstreamKey;
proxyVars.ADMIN_TOKEN = adminToken;
proxyVars.SIGNING_SECRET = envVar("SIGNING_SECRET") ?? saved.signing_secret;
if (simMode) {
  proxyVars.RUNAPI_BASE_URL = `http://${HOST}:${simPort}`;
  // The simulator's callbacks and local tenant webhooks are plain http on localhost.
  proxyVars.PUBLIC_BASE_URL = envVar("PUBLIC_BASE_URL") ?? `http://${HOST}:${port}`;
  proxyVars.ALLOW_HTTP_URLS = envVar("ALLOW_HTTP_URLS") ?? "true";
  proxyVars.ALLOW_PRIVATE_URLS = envVar("ALLOW_PRIVATE_URLS") ?? "true";
}

const simVars = { SIM_API_KEY: upstreamKey, SIM_CALLBACK_MODE: "fetch" };
for (const name of SIM_VARS) {
  const value = envVar(name);
  if (value !== undefined) simVars[name] = value;
}

const scripts = await bundleWorkers(BUILD_DIR);
const mf = new Miniflare(
  miniflareOptions({
    wrangler,
    scripts,
    host: HOST,
    port,
    proxyVars,
    sim: simMode ? { port: simPort, vars: simVars } : undefined,
    persistRoot: PERSIST_ROOT,
    // One short line per request (and one per failed outbound fetch) instead of raw JSON and workerd stacks.
    onLog: createLogPrinter((line, level) => (level === "error" || level === "warn" ? console.error : console.log)(line), { color: process.stdout.isTTY }),
  }),
);

// Miniflare's own exit hook also stops workerd on these signals and exits; ours runs first.
let disposing = false;
function shutdown(signal) {
  if (disposing) return;
  disposing = true;
  console.log(`\n${signal}: stopping workerd…`);
  mf.dispose().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.prependListener("SIGINT", () => shutdown("SIGINT"));
process.prependListener("SIGTERM", () => shutdown("SIGTERM"));

try {
  await mf.ready;
} catch (err) {
  await mf.dispose().catch(() => {});
  fail(`could not start workerd: ${err instanceof Error ? err.message : err} (is port ${port}${simMode ? ` or ${simPort}` : ""} in use? set PORT / SIM_PORT)`);
}

const base = `http://${HOST}:${port}`;
const api = client(base);
let demoKey;
let demoPk;
let prices = "";
try {
  await waitHealthy(base);
  // Prices come from RunAPI's schedule (the simulator's, offline): fetched now, as the cron trigger does every 30 minutes.
  const sync = await api.post("/admin/v1/prices/sync", adminToken);
  prices =
    sync.status === 200
      ? `${sync.json.prices} prices from ${simMode ? "the simulator's" : "RunAPI's"} schedule (as of ${sync.json.as_of.slice(0, 10)})`
      : `the bundled schedule (the sync answered ${sync.status}; POST /admin/v1/prices/sync retries)`;
  const { created } = await ensureTenant(api, adminToken, DEMO_TENANT);
  if (!created) {
    // A demo tenant from an older run: give it the end-user budget the demo page relies on.
    const existing = await api.get("/admin/v1/tenants/demo", adminToken);
    if (existing.status === 200 && !existing.json.tenant.end_user_budget)
      await api.patch("/admin/v1/tenants/demo", adminToken, { end_user_budget: DEMO_TENANT.end_user_budget });
  }
  // Keys are shown once: reuse the stored demo key while it still authenticates.
  if (saved.demo_key && (await api.get("/api/v1/me", saved.demo_key)).status === 200) {
    demoKey = saved.demo_key;
  } else {
    demoKey = (await issueKey(api, adminToken, "demo", { kind: "secret", name: "demo" })).key;
    saved.demo_key = demoKey;
    await writeJsonFile(SECRETS_FILE, saved, { secret: true });
  }
  // The demo page's publishable key, allowed from the proxy's own origin(s); reused while it still works from there.
  const publicOrigin = proxyVars.PUBLIC_BASE_URL ? new URL(proxyVars.PUBLIC_BASE_URL).origin : base;
  const origins = [...new Set([base, `http://localhost:${port}`, publicOrigin])];
  const worksFrom = async (pk, origin) => (await fetch(`${base}/api/v1/me`, { headers: { Authorization: `Bearer ${pk}`, Origin: origin } })).status === 200;
  const pkWorks = async (pk) => (await Promise.all(origins.map((o) => worksFrom(pk, o)))).every(Boolean);
  if (saved.demo_pk && (await pkWorks(saved.demo_pk))) {
    demoPk = saved.demo_pk;
  } else {
    demoPk = (
      await issueKey(api, adminToken, "demo", {
        kind: "publishable",
        name: "demo page",
        allowed_origins: origins,
        end_user_requests_per_minute: DEMO_PAGE_RPM,
        allowed_models: DEMO_PAGE_MODELS,
      })
    ).key;
    saved.demo_pk = demoPk;
    await writeJsonFile(SECRETS_FILE, saved, { secret: true });
  }
} catch (err) {
  await mf.dispose().catch(() => {});
  fail(`seeding the demo tenant failed: ${err instanceof Error ? err.message : err}`);
}

const body = JSON.stringify({ model: "hailuo-02-text-to-video-standard", prompt: "a cat surfing a wave at sunset", duration_seconds: 6 });
console.log(`
runapi-edge-proxy is running in local workerd

  proxy       ${base}
  upstream    ${simMode ? `http://${HOST}:${simPort}  (RunAPI simulator; callbacks in ~8 s)` : `${proxyVars.RUNAPI_BASE_URL}  (RUNAPI_BASE_URL)`}
  prices      ${prices}
  admin token ${adminToken}
  demo key    ${demoKey}  (tenant "demo": $5/day, 5 concurrent tasks, 30 req/min)
  demo page   ${base}/demo?key=${demoPk}
              (open it in a browser: each visitor $${DEMO_TENANT.end_user_budget.limit_usd}/${DEMO_TENANT.end_user_budget.period}, ${DEMO_PAGE_RPM} videos/min)
  dashboard   ${base}/admin  (sign in with the admin token)
  API docs    ${base}/docs  (OpenAPI: ${base}/openapi.json)
  agents      OpenAI-compatible ${base}/v1, MCP ${base}/mcp  (the demo key as bearer)
  state       .wrangler/state  (secrets: .wrangler/local-secrets.json)

Create a text-to-video task (any RunAPI model works the same way: POST /api/v1/{service}/{action}, GET /api/v1/models lists them):
  curl -s ${base}/api/v1/hailuo/text_to_video -H "Authorization: Bearer ${demoKey}" -H "Content-Type: application/json" -d '${body}'

Read it (paste the id from the answer):
  curl -s ${base}/api/v1/tasks/<id> -H "Authorization: Bearer ${demoKey}"

Ctrl-C to stop.
`);
