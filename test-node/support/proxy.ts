// Starts the proxy and the RunAPI simulator in local workerd for a node-side test file.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
// @ts-expect-error: plain ESM helpers shared with `npm start` and `npm run bench`
import { bundleWorkers, issueKey, miniflareOptions, readWranglerConfig, client } from "../../scripts/local.mjs";

export const UPSTREAM_KEY = "sk-node-test-UPSTREAM-5d1e";
export const ADMIN_TOKEN = "adm-node-test-token-81c2";

/** A running proxy + simulator pair. */
export interface RunningProxy {
  /** The proxy's origin, e.g. http://127.0.0.1:41234 */
  base: string;
  /** The simulator's origin (RunAPI stand-in). */
  simBase: string;
  adminToken: string;
  mf: Miniflare;
  /** Every log line the workers wrote so far (console output and workerd's own), in order. */
  logs: { timestamp: number; level: string; message: string }[];
  /** Operator call: JSON in, `{status, json, text}` out. */
  admin(method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE", path: string, body?: unknown): Promise<{ status: number; json: any; text: string }>;
  /** Creates a tenant (fresh id unless given) and a key of that kind; returns both. */
  tenantWithKey(tenant?: Record<string, unknown>, key?: Record<string, unknown>): Promise<{ tenantId: string; key: string; keyId: string }>;
  dispose(): Promise<void>;
}

let bundled: Promise<{ proxyScript: string; simScript: string }> | undefined;

/**
 * Starts workerd with the proxy and the simulator on free ports, in memory.
 * `vars` override the proxy's vars; `simVars` the simulator's (callbacks are real fetches by default);
 * `persistRoot` keeps KV, Durable Objects and R2 on disk there instead of in memory.
 */
export async function startProxy(opts: { vars?: Record<string, string>; simVars?: Record<string, string>; persistRoot?: string } = {}): Promise<RunningProxy> {
  bundled ??= mkdtemp(join(tmpdir(), "proxy-node-test-")).then((dir) => bundleWorkers(dir));
  const scripts = await bundled;
  const wrangler = await readWranglerConfig();
  const host = "127.0.0.1";
  // The simulator needs a fixed socket the proxy can be told about before start; pick a free one.
  const simPort = await freePort();
  const proxyVars: Record<string, string> = {
    ...wrangler.vars,
    RUNAPI_BASE_URL: `http://${host}:${simPort}`,
    RUNAPI_API_KEY: UPSTREAM_KEY,
    ADMIN_TOKEN,
    SIGNING_SECRET: "node-test-signing-secret-0a9b",
    ALLOW_HTTP_URLS: "true",
    ALLOW_PRIVATE_URLS: "true",
    ...opts.vars,
  };
  const simVars = {
    SIM_API_KEY: UPSTREAM_KEY,
    SIM_CALLBACK_MODE: "fetch",
    SIM_PROCESSING_AFTER_MS: "300",
    SIM_COMPLETE_AFTER_MS: "900",
    ...opts.simVars,
  };
  const port = await freePort();
  if (!opts.vars?.PUBLIC_BASE_URL) proxyVars.PUBLIC_BASE_URL = `http://${host}:${port}`;
  const logs: RunningProxy["logs"] = [];
  const mf = new Miniflare(
    miniflareOptions({
      wrangler,
      scripts,
      host,
      port,
      proxyVars,
      sim: { port: simPort, vars: simVars },
      persistRoot: opts.persistRoot,
      onLog: (entry: RunningProxy["logs"][number]) => logs.push(entry),
    }),
  );
  const url = await mf.ready;
  const base = url.origin;
  const api = client(base);
  const admin: RunningProxy["admin"] = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  return {
    base,
    simBase: `http://${host}:${simPort}`,
    adminToken: ADMIN_TOKEN,
    mf,
    logs,
    admin,
    async tenantWithKey(tenant = {}, key = { kind: "secret" }) {
      const tenantId = (tenant.id as string | undefined) ?? `t-${crypto.randomUUID().slice(0, 8)}`;
      const created = await admin("POST", "/admin/v1/tenants", { name: tenantId, budget: { limit_usd: 10, period: "day" }, ...tenant, id: tenantId });
      if (created.status !== 201) throw new Error(`tenant: ${created.status} ${created.text}`);
      const issued = await issueKey(api, ADMIN_TOKEN, tenantId, key);
      return { tenantId, key: issued.key as string, keyId: issued.id as string };
    },
    dispose: () => mf.dispose(),
  };
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
