// `npm run bench`: the proxy's overhead over the RunAPI simulator, in one run.
// Proxy and simulator run in local workerd (Miniflare, in memory, inspector off), each on
// its own direct socket; autocannon measures each path against the same simulator:
//   create  POST /api/v1/hailuo/text_to_video   proxy vs. simulator directly
//   status  GET  /api/v1/tasks/{id}              proxy (task object) vs. simulator's status GET
//   ledger  creates/s on ONE tenant at high concurrency (reservation + upstream call) vs. direct
// Env: BENCH_SECONDS (default 10), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (10),
//      BENCH_LEDGER_CONNECTIONS (50). Writes bench/results/<timestamp>.json and latest.json.

import { createServer } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { Miniflare } from "miniflare";
import {
  bundleWorkers,
  client,
  ensureTenant,
  envVar,
  issueKey,
  LOCAL_UPSTREAM_KEY,
  miniflareOptions,
  readWranglerConfig,
  ROOT,
  waitHealthy,
  writeJsonFile,
} from "./local.mjs";

const HOST = "127.0.0.1";
const num = (name, fallback) => {
  const raw = envVar(name);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};
const SECONDS = num("BENCH_SECONDS", 10);
const WARMUP = num("BENCH_WARMUP_SECONDS", 2);
const CONNECTIONS = num("BENCH_CONNECTIONS", 10);
const LEDGER_CONNECTIONS = num("BENCH_LEDGER_CONNECTIONS", 50);
const ADMIN_TOKEN = "bench-admin-token-0123456789";
const PRICE_MICROS = 300_000; // 02 t2v standard, 6 s

// `[sim:no-callback]` keeps the simulator from scheduling callbacks, so both paths ask it for the same work.
const BODY = JSON.stringify({ model: "hailuo-02-text-to-video-standard", prompt: "bench: a cat surfing at sunset [sim:no-callback]", duration_seconds: 6 });

/** A free TCP port on HOST. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** One autocannon run; resolves with its result. */
function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ timeout: 30, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** Warms up, then measures; returns the figures the table shows. */
async function measure(label, opts) {
  process.stdout.write(`  ${label.padEnd(36)}`);
  const w = await cannon({ ...opts, duration: WARMUP });
  const r = await cannon({ ...opts, duration: SECONDS });
  const row = {
    label,
    connections: opts.connections,
    requests: r.requests.total,
    rps: round(r.requests.total / (r.duration || SECONDS), 1),
    // autocannon's histogram has whole-millisecond buckets; with one connection the exact wall time
    // per request is 1000 / req/s.
    mean_ms: opts.connections === 1 ? round(1000 / (r.requests.total / (r.duration || SECONDS)), 2) : round(r.latency.average, 2),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    ok_2xx: r["2xx"],
    non_2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
  console.log(`${String(row.rps).padStart(8)} req/s  mean ${row.mean_ms} ms  p50 ${row.p50_ms} ms  p99 ${row.p99_ms} ms  non-2xx ${row.non_2xx}${row.errors ? `  errors ${row.errors}` : ""}`);
  return { row, warmupAndRun2xx: w["2xx"] + r["2xx"] };
}

const round = (n, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const ratio = (a, b) => (b ? round(a / b, 2) : null);

async function main() {
  const started = new Date();
  const work = await mkdtemp(join(tmpdir(), "runapi-bench-"));
  const [port, proxyPort, simPort] = [await freePort(), await freePort(), await freePort()];
  const proxyBase = `http://${HOST}:${proxyPort}`;
  const simBase = `http://${HOST}:${simPort}`;

  const wrangler = await readWranglerConfig();
  const scripts = await bundleWorkers(join(work, "build"));
  const proxyVars = {
    ...wrangler.vars,
    RUNAPI_BASE_URL: simBase,
    RUNAPI_API_KEY: LOCAL_UPSTREAM_KEY,
    ADMIN_TOKEN,
    SIGNING_SECRET: "bench-signing-secret-0123456789",
    PUBLIC_BASE_URL: proxyBase,
    ALLOW_HTTP_URLS: "true",
    // No polling, expiry or callbacks while measuring.
    TASK_POLL_AFTER_SECONDS: "86400",
    TASK_TTL_SECONDS: "172800",
  };
  const simVars = {
    SIM_API_KEY: LOCAL_UPSTREAM_KEY,
    SIM_CALLBACK_MODE: "outbox",
    SIM_PROCESSING_AFTER_MS: "3600000",
    SIM_COMPLETE_AFTER_MS: "7200000",
  };
  const mf = new Miniflare(
    miniflareOptions({
      wrangler,
      scripts,
      host: HOST,
      port,
      proxyVars,
      sim: { port: simPort, vars: simVars },
      persistRoot: undefined,
      directProxySocket: true,
      directProxyPort: proxyPort,
      // The per-request access log would flood the terminal: show everything else.
      onLog: (entry) => entry.message.includes('"event":"request"') || process.stderr.write(`${entry.message}\n`),
    }),
  );
  const stop = async () => {
    await mf.dispose().catch(() => {});
    await rm(work, { recursive: true, force: true }).catch(() => {});
  };
  process.prependListener("SIGINT", () => void stop().then(() => process.exit(130)));

  try {
    await mf.ready;
    await waitHealthy(proxyBase);

    // A demo-like tenant with a huge budget and no RPM or concurrency limit.
    const api = client(proxyBase);
    await ensureTenant(api, ADMIN_TOKEN, {
      id: "bench",
      name: "Bench tenant",
      budget: { limit_usd: 1_000_000_000, period: "total" },
      limits: { max_concurrent_tasks: null, requests_per_minute: null },
    });
    const { key } = await issueKey(api, ADMIN_TOKEN, "bench", { kind: "secret", name: "bench" });

    const proxyHeaders = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const simHeaders = { authorization: `Bearer ${LOCAL_UPSTREAM_KEY}`, "content-type": "application/json" };
    const first = await api.post("/api/v1/hailuo/text_to_video", key, JSON.parse(BODY));
    if (first.status !== 200) throw new Error(`proxy create answered ${first.status}: ${first.text}`);
    const direct = await fetch(`${simBase}/api/v1/hailuo/text_to_video`, { method: "POST", headers: simHeaders, body: BODY });
    if (direct.status !== 200) throw new Error(`simulator create answered ${direct.status}: ${await direct.text()}`);
    const proxyTaskId = first.json.id;
    const simTaskId = (await direct.json()).id;
    let proxyCreates = 1;

    console.log(`\nrunapi-edge-proxy bench: ${SECONDS} s per measurement after ${WARMUP} s warm-up, ${cpus().length} CPU(s), local workerd via Miniflare (in memory), proxy and simulator each on a direct socket\n`);
    const create = { method: "POST", body: BODY };
    const c1 = await measure(`create  proxy   (${CONNECTIONS} conn)`, { url: `${proxyBase}/api/v1/hailuo/text_to_video`, connections: CONNECTIONS, headers: proxyHeaders, ...create });
    const c2 = await measure(`create  direct  (${CONNECTIONS} conn)`, { url: `${simBase}/api/v1/hailuo/text_to_video`, connections: CONNECTIONS, headers: simHeaders, ...create });
    const s1 = await measure(`status  proxy   (${CONNECTIONS} conn)`, { url: `${proxyBase}/api/v1/tasks/${proxyTaskId}`, connections: CONNECTIONS, headers: { authorization: proxyHeaders.authorization } });
    const s2 = await measure(`status  direct  (${CONNECTIONS} conn)`, { url: `${simBase}/api/v1/hailuo/text_to_video/${simTaskId}`, connections: CONNECTIONS, headers: { authorization: simHeaders.authorization } });
    // One connection: the latency the proxy adds to a single request, without CPU contention between
    // the proxy, its objects and the simulator (all of which share this machine's workerd).
    const a1 = await measure("create  proxy   (1 conn)", { url: `${proxyBase}/api/v1/hailuo/text_to_video`, connections: 1, headers: proxyHeaders, ...create });
    const a2 = await measure("create  direct  (1 conn)", { url: `${simBase}/api/v1/hailuo/text_to_video`, connections: 1, headers: simHeaders, ...create });
    const b1 = await measure("status  proxy   (1 conn)", { url: `${proxyBase}/api/v1/tasks/${proxyTaskId}`, connections: 1, headers: { authorization: proxyHeaders.authorization } });
    const b2 = await measure("status  direct  (1 conn)", { url: `${simBase}/api/v1/hailuo/text_to_video/${simTaskId}`, connections: 1, headers: { authorization: simHeaders.authorization } });
    const l1 = await measure(`ledger  proxy   (${LEDGER_CONNECTIONS} conn, 1 tenant)`, { url: `${proxyBase}/api/v1/hailuo/text_to_video`, connections: LEDGER_CONNECTIONS, headers: proxyHeaders, ...create });
    const l2 = await measure(`ledger  direct  (${LEDGER_CONNECTIONS} conn)`, { url: `${simBase}/api/v1/hailuo/text_to_video`, connections: LEDGER_CONNECTIONS, headers: simHeaders, ...create });

    // The ledger must account for every accepted create (warm-ups, runs and the first one). Requests still
    // in flight when autocannon stops are finished by the proxy but not counted by the client: at most
    // one per connection per stop.
    proxyCreates += c1.warmupAndRun2xx + a1.warmupAndRun2xx + l1.warmupAndRun2xx;
    const inFlightBound = 2 * (CONNECTIONS + 1 + LEDGER_CONNECTIONS);
    const me = await api.get("/api/v1/me", key);
    const budget = me.json?.budgets?.tenant;
    const accountedMicros = budget ? Math.round((budget.spent_usd + budget.reserved_usd) * 1e6) : NaN;
    const accounted = accountedMicros / PRICE_MICROS;

    const pair = (name, proxy, directRow) => ({
      name,
      proxy: proxy.row,
      direct: directRow.row,
      throughput_ratio: ratio(proxy.row.rps, directRow.row.rps),
      mean_ratio: ratio(proxy.row.mean_ms, directRow.row.mean_ms),
      added_mean_ms: round(proxy.row.mean_ms - directRow.row.mean_ms, 2),
      p50_ratio: ratio(proxy.row.p50_ms, directRow.row.p50_ms),
      p99_ratio: ratio(proxy.row.p99_ms, directRow.row.p99_ms),
    });
    const results = {
      at: started.toISOString(),
      seconds: SECONDS,
      warmup_seconds: WARMUP,
      cpus: cpus().length,
      node: process.version,
      body: JSON.parse(BODY),
      comparisons: [
        pair("create", c1, c2),
        pair("status", s1, s2),
        pair("create-1", a1, a2),
        pair("status-1", b1, b2),
        pair("ledger", l1, l2),
      ],
      ledger_creates_per_second: l1.row.rps,
      ledger_check: {
        client_accepted_creates: proxyCreates,
        reserved_plus_spent_usd: accountedMicros / 1e6,
        accounted_creates: accounted,
        in_flight_bound: inFlightBound,
        ok: Number.isInteger(accounted) && accounted >= proxyCreates && accounted <= proxyCreates + inFlightBound,
      },
    };

    printTable(results);
    const dir = join(ROOT, "bench", "results");
    await writeJsonFile(join(dir, `${started.toISOString().replace(/[:.]/g, "-")}.json`), results);
    await writeJsonFile(join(dir, "latest.json"), results);
    console.log(`\nwrote bench/results/latest.json`);
  } finally {
    await stop();
  }
}

function printTable(results) {
  const head = ["", "path", "conn", "req/s", "mean ms", "p50 ms", "p99 ms", "non-2xx", "rps ratio", "mean ratio", "p50 ratio", "p99 ratio"];
  const rows = [];
  for (const c of results.comparisons) {
    const line = (who, r, ratios) => [c.name, who, r.connections, r.rps, r.mean_ms, r.p50_ms, r.p99_ms, r.non_2xx + r.errors, ...ratios];
    rows.push(line("proxy", c.proxy, [c.throughput_ratio, c.mean_ratio, c.p50_ratio, c.p99_ratio]));
    rows.push(line("direct", c.direct, ["", "", "", ""]));
  }
  const cells = [head, ...rows].map((r) => r.map((v) => String(v ?? "–")));
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const fmt = (r) => `| ${r.map((v, i) => (i < 2 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(" | ")} |`;
  console.log(`\n${fmt(cells[0])}\n|${widths.map((w, i) => (i < 2 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const r of cells.slice(1)) console.log(fmt(r));
  const failed = results.comparisons.flatMap((c) => [c.proxy, c.direct]).filter((r) => r.non_2xx + r.errors + r.timeouts > 0);
  if (failed.length) console.log(`\nwarning: ${failed.map((r) => r.label).join(", ")} had failures; see the workerd log above`);
  const lc = results.ledger_check;
  console.log(`\nledger: ${results.ledger_creates_per_second} creates/s on one tenant (reservation + task object + upstream call)`);
  console.log(
    `ledger check: reserved + spent = $${lc.reserved_plus_spent_usd.toFixed(2)} = ${lc.accounted_creates} creates × $0.30; the client saw ${lc.client_accepted_creates} ` +
      `(+ ≤ ${lc.in_flight_bound} in flight at autocannon stops) → ${lc.ok ? "consistent" : "MISMATCH"}`,
  );
}

main().catch((err) => {
  console.error(`npm run bench: ${err instanceof Error ? err.stack : err}`);
  process.exit(1);
});
