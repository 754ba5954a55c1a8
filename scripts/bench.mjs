// `npm run bench`: the proxy's cost, in one run, against two baselines on the same simulator.
// Proxy, simulator and a reference Worker run in local workerd (Miniflare, in memory, inspector
// off), each on its own direct socket; autocannon measures each path at 1 and N connections:
//   create     POST /api/v1/hailuo/text_to_video  proxy (one tenant) vs. the reference vs. the simulator directly
//   kling      POST /api/v1/kling/text_to_video   a matrix-priced non-Hailuo model (another tenant) vs. the reference
//   status     GET  /api/v1/tasks/{id}            proxy (the tenant's object) vs. the reference's create vs. the simulator's GET
//   reference  bench/reference-worker.ts: Hono + one KV read + one RPC to an existing SQLite Durable
//              Object that updates a counter + the same upstream POST (the least a gateway of this shape does)
// Env: BENCH_SECONDS (default 10), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (50).
// Writes bench/results/<timestamp>.json and latest.json.

import { createServer } from "node:net";
import { KLING, validationCpu } from "../bench/catalog.mjs";
import { benchFlat, printFlat } from "../bench/flat.mjs";
import { readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir, cpus, loadavg } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { build } from "esbuild";
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
const CONNECTIONS = num("BENCH_CONNECTIONS", 50);
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
  const cpuBefore = workerdCpuMs();
  const r = await cannon({ ...opts, duration: SECONDS });
  const cpuAfter = workerdCpuMs();
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
    // The CPU workerd (every worker, object and the simulator: one thread) spent per request; Linux only.
    workerd_cpu_ms: cpuBefore === null || cpuAfter === null ? null : round((cpuAfter - cpuBefore) / r.requests.total, 3),
  };
  console.log(
    `${String(row.rps).padStart(8)} req/s  mean ${row.mean_ms} ms  p50 ${row.p50_ms} ms  p99 ${row.p99_ms} ms  non-2xx ${row.non_2xx}${row.errors ? `  errors ${row.errors}` : ""}${row.workerd_cpu_ms === null ? "" : `  workerd CPU ${row.workerd_cpu_ms} ms/req`}`,
  );
  return { row, warmupAndRun2xx: w["2xx"] + r["2xx"] };
}

/**
 * User + system CPU (ms) so far of the workerd processes this bench started (Miniflare's children; other people's
 * workerd on a shared machine are not counted), from /proc; null where there is none.
 */
function workerdCpuMs() {
  try {
    const procs = new Map();
    for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        procs.set(Number(pid), {
          ppid: Number(fields[1]),
          ticks: Number(fields[11]) + Number(fields[12]),
          comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
        });
      } catch {
        // gone meanwhile
      }
    }
    const ours = (pid) => {
      for (let p = procs.get(pid)?.ppid, hops = 0; p && hops < 10; p = procs.get(p)?.ppid, hops++) if (p === process.pid) return true;
      return false;
    };
    let ticks = 0;
    for (const [pid, p] of procs) if (p.comm === "workerd" && ours(pid)) ticks += p.ticks;
    return ticks * 10; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

const round = (n, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const ratio = (a, b) => (b ? round(a / b, 2) : null);

async function main() {
  const started = new Date();
  const work = await mkdtemp(join(tmpdir(), "runapi-bench-"));
  const [port, proxyPort, simPort, refPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const refBase = `http://${HOST}:${refPort}`;
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
    // The tenant object answers the bench's hooks (seed stored history, run its alarm, count rows): issue 20's figures.
    BENCH_HOOKS: "true",
    // Capacity control on (SPEC §14): every create goes through the tenant's lease on RunAPI's capacity, sized so the
    // bench's tasks (never finished while measuring) all fit.
    UPSTREAM_MAX_CONCURRENT_TASKS: "1000000",
    UPSTREAM_REQUESTS_PER_MINUTE: "100000000",
  };
  const simVars = {
    SIM_API_KEY: LOCAL_UPSTREAM_KEY,
    SIM_CALLBACK_MODE: "outbox",
    SIM_PROCESSING_AFTER_MS: "3600000",
    SIM_COMPLETE_AFTER_MS: "7200000",
  };
  const options = miniflareOptions({
    wrangler,
    scripts,
    host: HOST,
    port,
    proxyVars,
    sim: { port: simPort, vars: simVars },
    persistRoot: undefined,
    directProxySocket: true,
    directProxyPort: proxyPort,
  });
  // workerd's own output, not Miniflare's structured-log pipeline (which re-encodes every line as JSON for
  // `npm start`'s readable log and costs the worker's thread several times what the line itself does; a
  // deployed Worker's logs leave through the runtime, not stdout). The per-request access log would flood
  // the terminal: show everything else.
  options.structuredWorkerdLogs = false;
  options.handleRuntimeStdio = (stdout, stderr) => {
    for (const stream of [stdout, stderr])
      createInterface(stream).on("line", (line) => line.includes('"event":"request"') || process.stderr.write(`${line}\n`));
  };
  options.workers.push(await referenceWorker(work, wrangler.compatibilityDate, simBase, refPort));
  const mf = new Miniflare(options);
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

    const refHeaders = simHeaders;
    await waitHealthy(refBase);
    const flatCtx = {
      mf,
      workerName: wrangler.name,
      api,
      adminToken: ADMIN_TOKEN,
      ensureTenant,
      issueKey,
      proxyBase,
      refBase,
      simBase,
      upstreamKey: LOCAL_UPSTREAM_KEY,
      createBody: BODY,
      seconds: SECONDS,
      warmup: WARMUP,
      connections: CONNECTIONS,
      cpuMs: workerdCpuMs,
      finishTask: (taskKey, opts) => finishedTask(api, taskKey, simBase, simHeaders, opts),
    };
    // BENCH_ONLY=issue20: only issue 20's figures (chat vs. the reference, history, rows), for quicker rounds.
    if (envVar("BENCH_ONLY") === "issue20") {
      printFlat(await benchFlat(flatCtx));
      console.log(
        `\nload average (1, 5, 15 min) at the end: ${loadavg()
          .map((l) => round(l, 2))
          .join(", ")} on ${cpus().length} CPUs`,
      );
      return;
    }
    console.log(
      `\nrunapi-edge-proxy bench: ${SECONDS} s per measurement after ${WARMUP} s warm-up, ${cpus().length} CPU(s), local workerd via Miniflare (in memory), each target on a direct socket\n`,
    );
    const create = { method: "POST", body: BODY };
    const runs = {};
    let proxyAccepted = 0;
    for (const conn of [1, CONNECTIONS]) {
      const c = (who, url, headers) => measure(`create  ${who.padEnd(9)} (${conn} conn)`, { url, connections: conn, headers, ...create });
      const s_ = (who, url, headers) => measure(`status  ${who.padEnd(9)} (${conn} conn)`, { url, connections: conn, headers });
      const proxyCreate = await c("proxy", `${proxyBase}/api/v1/hailuo/text_to_video`, proxyHeaders);
      proxyAccepted += proxyCreate.warmupAndRun2xx;
      runs[`create-${conn}`] = {
        proxy: proxyCreate,
        reference: await c("reference", `${refBase}/api/v1/hailuo/text_to_video`, refHeaders),
        direct: await c("direct", `${simBase}/api/v1/hailuo/text_to_video`, simHeaders),
      };
      runs[`status-${conn}`] = {
        proxy: await s_("proxy", `${proxyBase}/api/v1/tasks/${proxyTaskId}`, { authorization: proxyHeaders.authorization }),
        direct: await s_("direct", `${simBase}/api/v1/hailuo/text_to_video/${simTaskId}`, { authorization: simHeaders.authorization }),
      };
    }
    // A non-Hailuo model priced by a matrix (issue 16), under a tenant of its own so the ledger check stays per price.
    await ensureTenant(api, ADMIN_TOKEN, {
      id: "bench-kling",
      name: "Bench Kling",
      budget: { limit_usd: 1_000_000, period: "total" },
      limits: { max_concurrent_tasks: null, requests_per_minute: null },
    });
    const { key: klingKey } = await issueKey(api, ADMIN_TOKEN, "bench-kling", { kind: "secret", name: "bench" });
    const klingHeaders = { authorization: `Bearer ${klingKey}`, "content-type": "application/json" };
    const firstKling = await fetch(`${proxyBase}${KLING.path}`, { method: "POST", headers: klingHeaders, body: KLING.body });
    if (firstKling.status !== 200) throw new Error(`proxy Kling create answered ${firstKling.status}: ${await firstKling.text()}`);
    if (firstKling.headers.get("x-estimated-cost-usd") !== (KLING.micros / 1e6).toFixed(6)) throw new Error("Kling 3.0 was not priced from the matrix");
    for (const conn of [1, CONNECTIONS]) {
      const k = (who, url, headers) =>
        measure(`kling   ${who.padEnd(9)} (${conn} conn)`, { url, connections: conn, headers, method: "POST", body: KLING.body });
      runs[`kling-${conn}`] = {
        proxy: await k("proxy", `${proxyBase}${KLING.path}`, klingHeaders),
        reference: await k("reference", `${refBase}${KLING.path}`, refHeaders),
      };
    }
    const catalogCpu = await validationCpu();

    // Event streams live in the tenant's object (no object per stream): the cost of opening one on a finished task.
    const doneId = await finishedTask(api, key, simBase, simHeaders);
    const events = await measure("events  proxy     (1 conn)", {
      url: `${proxyBase}/api/v1/tasks/${doneId}/events`,
      connections: 1,
      headers: { authorization: proxyHeaders.authorization },
    });

    // The ledger must account for every accepted create (warm-ups, runs and the first one). Requests still
    // in flight when autocannon stops are finished by the proxy but not counted by the client: at most
    // one per connection per stop.
    proxyCreates += proxyAccepted + 1; // + the finished task the event stream reads
    const inFlightBound = 2 * (CONNECTIONS + 1);
    const me = await api.get("/api/v1/me", key);
    const budget = me.json?.budgets?.tenant;
    const accountedMicros = budget ? Math.round((budget.spent_usd + budget.reserved_usd) * 1e6) : NaN;
    const accounted = accountedMicros / PRICE_MICROS;
    // Chat after the ledger check: its charges are not multiples of a clip's price.
    const chat = await benchChatIfPresent({ proxyBase, simBase, key, upstreamKey: LOCAL_UPSTREAM_KEY });
    const flat = await benchFlat(flatCtx);

    const vs = (name, proxy, base, baseName) => ({
      name,
      baseline: baseName,
      proxy: proxy.row,
      base: base.row,
      throughput_ratio: ratio(proxy.row.rps, base.row.rps),
      mean_ratio: ratio(proxy.row.mean_ms, base.row.mean_ms),
      p50_ratio: ratio(proxy.row.p50_ms, base.row.p50_ms),
      p99_ratio: ratio(proxy.row.p99_ms, base.row.p99_ms),
    });
    const comparisons = [];
    for (const conn of [1, CONNECTIONS]) {
      const cr = runs[`create-${conn}`];
      const st = runs[`status-${conn}`];
      comparisons.push(vs(`create-${conn}`, cr.proxy, cr.reference, "reference"));
      comparisons.push(vs(`create-${conn}`, cr.proxy, cr.direct, "direct"));
      comparisons.push(vs(`status-${conn}`, st.proxy, cr.reference, "reference"));
      comparisons.push(vs(`status-${conn}`, st.proxy, st.direct, "direct"));
      comparisons.push(vs(`kling-${conn}`, runs[`kling-${conn}`].proxy, runs[`kling-${conn}`].reference, "reference"));
    }
    const one = runs["create-1"];
    const many = runs[`create-${CONNECTIONS}`];
    const goals = {
      create_1conn_mean_vs_reference: { value: ratio(one.proxy.row.mean_ms, one.reference.row.mean_ms), goal: "≤ 1.5" },
      create_many_throughput_vs_reference: { value: ratio(many.proxy.row.rps, many.reference.row.rps), goal: "≥ 0.8" },
      status_many_throughput_vs_reference: { value: ratio(runs[`status-${CONNECTIONS}`].proxy.row.rps, many.reference.row.rps), goal: "≥ 1.0" },
      kling_1conn_mean_vs_reference: { value: ratio(runs["kling-1"].proxy.row.mean_ms, runs["kling-1"].reference.row.mean_ms), goal: "≤ 1.2" },
      kling_many_throughput_vs_reference: {
        value: ratio(runs[`kling-${CONNECTIONS}`].proxy.row.rps, runs[`kling-${CONNECTIONS}`].reference.row.rps),
        goal: "≥ 1.0",
      },
      catalog_validation_and_pricing_slowest_us: { value: catalogCpu.slowest_us, goal: "< 200" },
    };
    // Steadier than throughput on a shared machine: the reference's workerd CPU per create ÷ the proxy's.
    const createCpu = { proxy_ms: many.proxy.row.workerd_cpu_ms, reference_ms: many.reference.row.workerd_cpu_ms };
    const results = {
      at: started.toISOString(),
      seconds: SECONDS,
      warmup_seconds: WARMUP,
      cpus: cpus().length,
      node: process.version,
      body: JSON.parse(BODY),
      comparisons,
      goals,
      create_cpu_per_request_many: { ...createCpu, reference_over_proxy: ratio(createCpu.reference_ms ?? 0, createCpu.proxy_ms ?? 0) },
      events_on_finished_task: events.row,
      catalog_validation_and_pricing: catalogCpu,
      chat,
      issue_20: flat,
      load_average: loadavg().map((l) => round(l, 2)),
      one_tenant: { creates_per_second: many.proxy.row.rps, status_reads_per_second: runs[`status-${CONNECTIONS}`].proxy.row.rps, connections: CONNECTIONS },
      ledger_check: {
        client_accepted_creates: proxyCreates,
        reserved_plus_spent_usd: accountedMicros / 1e6,
        accounted_creates: accounted,
        in_flight_bound: inFlightBound,
        ok: Number.isInteger(accounted) && accounted >= proxyCreates && accounted <= proxyCreates + inFlightBound,
      },
    };

    printTable(results);
    printFlat(flat);
    console.log(`\nload average (1, 5, 15 min) at the end: ${results.load_average.join(", ")} on ${cpus().length} CPUs`);
    const dir = join(ROOT, "bench", "results");
    await writeJsonFile(join(dir, `${started.toISOString().replace(/[:.]/g, "-")}.json`), results);
    await writeJsonFile(join(dir, "latest.json"), results);
    console.log(`\nwrote bench/results/latest.json`);
  } finally {
    await stop();
  }
}

function printTable(results) {
  const head = [
    "path",
    "vs",
    "conn",
    "proxy req/s",
    "base req/s",
    "proxy mean ms",
    "base mean ms",
    "proxy p50",
    "base p50",
    "rps ratio",
    "mean ratio",
    "p50 ratio",
    "p99 ratio",
  ];
  const rows = results.comparisons.map((c) => [
    c.name,
    c.baseline,
    c.proxy.connections,
    c.proxy.rps,
    c.base.rps,
    c.proxy.mean_ms,
    c.base.mean_ms,
    c.proxy.p50_ms,
    c.base.p50_ms,
    c.throughput_ratio,
    c.mean_ratio,
    c.p50_ratio,
    c.p99_ratio,
  ]);
  printGrid(head, rows);
  console.log("\ngoals (issue 7):");
  for (const [name, g] of Object.entries(results.goals)) console.log(`  ${name.padEnd(40)} ${String(g.value).padStart(6)}   goal ${g.goal}`);
  const cpu = results.create_cpu_per_request_many;
  if (cpu.proxy_ms !== null && cpu.reference_ms !== null) {
    console.log(
      `  workerd CPU per create at ${results.one_tenant.connections} conn: proxy ${cpu.proxy_ms} ms, reference ${cpu.reference_ms} ms (reference ÷ proxy ${cpu.reference_over_proxy})`,
    );
  }
  const v = results.catalog_validation_and_pricing;
  console.log(`  validating and pricing each of the ${v.pairs} catalog pairs (Node, V8): mean ${v.mean_us} µs, slowest ${v.slowest_us} µs (${v.slowest})`);
  if (results.chat) {
    console.log("\nchat (proxy vs. the simulator directly):");
    printGrid(
      Object.keys(results.chat.rows[0] ?? {}),
      results.chat.rows.map((r) => Object.values(r)),
    );
  }
  const failed = results.comparisons.flatMap((c) => [c.proxy, c.base]).filter((r) => r.non_2xx + r.errors + r.timeouts > 0);
  if (failed.length) console.log(`\nwarning: ${[...new Set(failed.map((r) => r.label))].join(", ")} had failures; see the workerd log above`);
  const e = results.events_on_finished_task;
  console.log(`\nevent stream (open, first frame, end) on a finished task: ${e.rps} req/s, mean ${e.mean_ms} ms at 1 connection`);
  const t = results.one_tenant;
  console.log(
    `\none tenant object at ${t.connections} connections: ${t.creates_per_second} creates/s (with the upstream call), ${t.status_reads_per_second} status reads/s`,
  );
  const lc = results.ledger_check;
  console.log(
    `ledger check: reserved + spent = $${lc.reserved_plus_spent_usd.toFixed(2)} = ${lc.accounted_creates} creates × $0.30; the client saw ${lc.client_accepted_creates} ` +
      `(+ ≤ ${lc.in_flight_bound} in flight at autocannon stops) → ${lc.ok ? "consistent" : "MISMATCH"}`,
  );
}

function printGrid(head, rows) {
  const cells = [head, ...rows].map((r) => r.map((v) => String(v ?? "–")));
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const fmt = (r) => `| ${r.map((v, i) => (i < 2 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(" | ")} |`;
  console.log(`\n${fmt(cells[0])}\n|${widths.map((w, i) => (i < 2 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const r of cells.slice(1)) console.log(fmt(r));
}

/** The reference Worker (bench/reference-worker.ts), bundled, with its own KV, Durable Object and socket. */
async function referenceWorker(work, compatibilityDate, simBase, refPort) {
  const outfile = join(work, "build", "reference.mjs");
  await build({
    absWorkingDir: ROOT,
    entryPoints: ["bench/reference-worker.ts"],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external: ["cloudflare:*"],
    mainFields: ["module", "main"],
    logLevel: "warning",
  });
  return {
    name: "reference",
    modules: true,
    scriptPath: outfile,
    modulesRoot: join(work, "build"),
    compatibilityDate,
    kvNamespaces: { KV: "reference-kv" },
    durableObjects: { COUNTER: { className: "Counter", useSQLite: true } },
    bindings: { RUNAPI_BASE_URL: simBase, RUNAPI_API_KEY: LOCAL_UPSTREAM_KEY },
    unsafeDirectSockets: [{ host: HOST, port: refPort }],
  };
}

/**
 * A task that went through to completed via the simulator's control API and the proxy's callback route; with
 * `archived`, also until its video's copy in R2 is the link the task shows.
 */
async function finishedTask(api, key, simBase, simHeaders, { archived = false } = {}) {
  const created = await api.post("/api/v1/hailuo/text_to_video", key, { ...JSON.parse(BODY), prompt: `bench: finished task ${Math.random()}` });
  const id = created.json.id;
  let upstream = null;
  for (let i = 0; i < 100 && !upstream?.id; i++) {
    const res = await fetch(`${simBase}/__sim/idempotency/${id}`);
    upstream = res.ok ? await res.json() : null;
    if (!upstream?.id) await new Promise((r) => setTimeout(r, 20));
  }
  await fetch(`${simBase}/__sim/tasks/${upstream.id}/advance`, { method: "POST", headers: simHeaders, body: JSON.stringify({ status: "completed" }) });
  const { callbacks } = await (await fetch(`${simBase}/__sim/outbox/take?task_id=${upstream.id}`, { method: "POST" })).json();
  for (const cb of callbacks) await fetch(cb.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(cb.body) });
  for (let i = 0; i < 200; i++) {
    const task = (await api.get(`/api/v1/tasks/${id}`, key)).json;
    if (task?.status === "completed" && (!archived || task.videos?.[0]?.source_url)) return id;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the bench's finished task did not complete");
}

/** Chat figures from bench/chat.mjs when it is present (plain and streamed chat through the proxy vs. direct). */
async function benchChatIfPresent(ctx) {
  try {
    const mod = await import("../bench/chat.mjs");
    return await mod.benchChat({ ...ctx, seconds: SECONDS, warmup: WARMUP });
  } catch (err) {
    if (err && err.code === "ERR_MODULE_NOT_FOUND") return null;
    throw err;
  }
}

main().catch((err) => {
  console.error(`npm run bench: ${err instanceof Error ? err.stack : err}`);
  process.exit(1);
});
