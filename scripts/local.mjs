// Shared by `npm start` and `npm run bench`: bundle the proxy and the RunAPI
// simulator, build Miniflare options for both, and talk to the operator API.
// Runs in local workerd through Miniflare's API: no wrangler dev, no account, no network.

process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Log, LogLevel } from "miniflare";

/** The repository root (scripts/..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The simulator's upstream key when none is given: the proxy sends it, the simulator checks it. */
export const LOCAL_UPSTREAM_KEY = "sk-local-sim-upstream";

/**
 * Process env vars that reach the proxy when set (SPEC §6): every variable and secret the README's
 * Configuration section documents (test-node/passed-vars.test.ts holds the two lists together).
 */
export const PASSED_VARS = [
  "RUNAPI_BASE_URL",
  "RUNAPI_API_KEY",
  "ADMIN_TOKEN",
  "SIGNING_SECRET",
  "PUBLIC_BASE_URL",
  "TASK_POLL_AFTER_SECONDS",
  "TASK_POLL_INTERVAL_SECONDS",
  "TASK_TTL_SECONDS",
  "ALLOW_HTTP_URLS",
  "ALLOW_PRIVATE_URLS",
  "UPSTREAM_TIMEOUT_MS",
  "UPSTREAM_RETRY_BASE_MS",
  "UPSTREAM_MAX_JSON_BYTES",
  "MAX_BODY_BYTES",
  "CHAT_MAX_BODY_BYTES",
  "CHAT_TIMEOUT_MS",
  "CHAT_MAX_RESPONSE_BYTES",
  "CHAT_MAX_EVENT_BYTES",
  "UPLOAD_MAX_BYTES",
  "PRICING_MODE",
  "VIDEO_URL_TTL_SECONDS",
  "VIDEO_RETENTION_DAYS",
  "VIDEO_COPY_RETRY_BASE_MS",
  "LEDGER_HOT_DAYS",
  "ARCHIVE_MAX_BYTES",
  "ARCHIVE_ALLOWED_HOSTS",
  "UPSTREAM_MAX_CONCURRENT_TASKS",
  "UPSTREAM_REQUESTS_PER_MINUTE",
  "DEFAULT_TENANT_MAX_CONCURRENT_TASKS",
  "DEFAULT_TENANT_REQUESTS_PER_MINUTE",
  "SSE_MAX_STREAMS_PER_TASK",
  "SSE_MAX_STREAMS_PER_TENANT",
  "TURNSTILE_SECRET_KEY",
  "TURNSTILE_SITE_KEY",
  "TURNSTILE_VERIFY_URL",
  "DEMO_PUBLISHABLE_KEY",
];

const SIM_NAME = "runapi-sim";

/** A process env var, treating an empty string as unset. */
export function envVar(name, env = process.env) {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

/** A TCP port from an env var, or the fallback. */
export function portFrom(name, fallback, env = process.env) {
  const raw = envVar(name, env);
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name} must be a TCP port (1-65535), got ${JSON.stringify(raw)}`);
  return port;
}

/**
 * Bundles `src/index.ts` (the proxy), `sim/index.ts` (the simulator) and `sim/hostile/index.ts` (its
 * misbehaving front, for `npm run hostile`) into `outDir`. Returns the script paths.
 */
export async function bundleWorkers(outDir) {
  await mkdir(outDir, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: { proxy: "src/index.ts", sim: "sim/index.ts", hostile: "sim/hostile/index.ts" },
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external: ["cloudflare:*"],
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    logLevel: "warning",
  });
  return { proxyScript: join(outDir, "proxy.mjs"), simScript: join(outDir, "sim.mjs"), hostileScript: join(outDir, "hostile.mjs") };
}

/** The proxy's name, compatibility date, vars, KV and Durable Object bindings, read from wrangler.toml. */
export async function readWranglerConfig() {
  const wrangler = await import("wrangler");
  const config = wrangler.unstable_readConfig({ config: join(ROOT, "wrangler.toml") }, { hideWarnings: true });
  const sqlite = wrangler.unstable_getDurableObjectClassNameToUseSQLiteMap(config.migrations);
  return {
    name: config.name,
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags ?? [],
    vars: Object.fromEntries(Object.entries(config.vars ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
    kvNamespaces: Object.fromEntries((config.kv_namespaces ?? []).map((kv) => [kv.binding, kv.id ?? kv.binding])),
    r2Buckets: Object.fromEntries((config.r2_buckets ?? []).map((r2) => [r2.binding, r2.bucket_name ?? r2.binding])),
    ratelimits: Object.fromEntries((config.ratelimits ?? []).map((r) => [r.name, { simple: r.simple }])),
    durableObjects: Object.fromEntries(
      (config.durable_objects?.bindings ?? []).map((b) => [b.name, { className: b.class_name, useSQLite: sqlite.get(b.class_name) ?? false }]),
    ),
  };
}

/**
 * Miniflare options for the proxy (served on `port`) and, when `sim` is given, the simulator
 * on its own socket (`sim.port`). The proxy reaches the simulator over a real HTTP call
 * (`RUNAPI_BASE_URL`), as it reaches RunAPI in production; no service binding.
 *
 * @param {object} o
 * @param {Awaited<ReturnType<typeof readWranglerConfig>>} o.wrangler
 * @param {{ proxyScript: string, simScript: string }} o.scripts
 * @param {string} o.host
 * @param {number} o.port
 * @param {Record<string,string>} o.proxyVars  every var and secret of the proxy (already merged)
 * @param {{ port: number, vars: Record<string,string> } | undefined} o.sim
 * @param {string | undefined} o.persistRoot  undefined: in memory
 * @param {boolean} [o.directProxySocket]  also serve the proxy on a direct socket (`o.directProxyPort`), skipping Miniflare's entry worker
 * @param {number} [o.directProxyPort]
 * @param {LogLevel} [o.logLevel]
 * @param {(log: { timestamp: number, level: string, message: string }) => void} [o.onLog]  receives the workers' log lines (instead of stdout)
 */
export function miniflareOptions(o) {
  const proxy = {
    name: o.wrangler.name,
    modules: true,
    scriptPath: o.scripts.proxyScript,
    modulesRoot: dirname(o.scripts.proxyScript),
    compatibilityDate: o.wrangler.compatibilityDate,
    compatibilityFlags: o.wrangler.compatibilityFlags,
    kvNamespaces: o.wrangler.kvNamespaces,
    r2Buckets: o.wrangler.r2Buckets,
    durableObjects: o.wrangler.durableObjects,
    ratelimits: o.wrangler.ratelimits,
    bindings: o.proxyVars,
    ...(o.directProxySocket ? { unsafeDirectSockets: [{ host: o.host, port: o.directProxyPort }] } : {}),
  };
  const workers = [proxy];
  if (o.sim) {
    workers.push({
      name: SIM_NAME,
      modules: true,
      scriptPath: o.scripts.simScript,
      modulesRoot: dirname(o.scripts.simScript),
      compatibilityDate: o.wrangler.compatibilityDate,
      durableObjects: { SIM: { className: "SimState", useSQLite: true } },
      bindings: o.sim.vars,
      unsafeDirectSockets: [{ host: o.host, port: o.sim.port }],
    });
  }
  return {
    workers,
    host: o.host,
    port: o.port,
    cf: false,
    telemetry: { enabled: false },
    unsafeInspectorProxy: false,
    log: new Log(o.logLevel ?? LogLevel.WARN),
    logRequests: false,
    ...(o.onLog ? { handleStructuredLogs: (entry) => void o.onLog(entry) } : {}),
    ...(o.persistRoot ? { defaultPersistRoot: o.persistRoot } : { kvPersist: false, durableObjectsPersist: false, cachePersist: false, r2Persist: false }),
  };
}

/** A random token of `bytes` bytes, base64url. */
export function randomToken(prefix, bytes = 24) {
  return `${prefix}${randomBytes(bytes).toString("base64url")}`;
}

/** Reads a JSON file, or `{}` when it is absent or unreadable. */
export async function readJsonFile(path) {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch {
    return {};
  }
}

/** Writes a JSON file; `secret` makes it 0600 (local secrets). */
export async function writeJsonFile(path, value, { secret = false } = {}) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`, secret ? { mode: 0o600 } : {});
}

/** Waits until `GET {base}/health` answers 200. */
export async function waitHealthy(base, timeoutMs = 15_000) {
  const start = Date.now();
  for (;;) {
    try {
      const res = await fetch(`${base}/health`);
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() - start > timeoutMs) throw new Error(`${base}/health did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A tiny operator/tenant API client over HTTP. */
export function client(base) {
  const call = async (method, path, token, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  return {
    get: (path, token) => call("GET", path, token),
    post: (path, token, body) => call("POST", path, token, body),
    patch: (path, token, body) => call("PATCH", path, token, body),
  };
}

/**
 * Creates a tenant unless it already exists: looks first (a listing, which answers 200 either way), so a
 * restart logs no 404 or 409 that reads like an error. Throws on anything unexpected.
 */
export async function ensureTenant(api, adminToken, tenant) {
  let cursor = "";
  do {
    const page = await api.get(`/admin/v1/tenants?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, adminToken);
    if (page.status !== 200) throw new Error(`GET /admin/v1/tenants answered ${page.status}: ${page.text}`);
    if (page.json.tenants.some((t) => t.id === tenant.id)) return { created: false };
    cursor = page.json.next_cursor ?? "";
  } while (cursor);
  const res = await api.post("/admin/v1/tenants", adminToken, tenant);
  if (res.status === 201) return { created: true, tenant: res.json.tenant };
  throw new Error(`POST /admin/v1/tenants answered ${res.status}: ${res.text}`);
}

/** Issues a key for a tenant; returns `{id, key, …}`. */
export async function issueKey(api, adminToken, tenantId, body) {
  const res = await api.post(`/admin/v1/tenants/${tenantId}/keys`, adminToken, body);
  if (res.status !== 201) throw new Error(`POST /admin/v1/tenants/${tenantId}/keys answered ${res.status}: ${res.text}`);
  return res.json;
}
