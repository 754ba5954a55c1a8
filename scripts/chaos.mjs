// `npm run chaos`: a burst of creates against the proxy, the proxy's workerd killed with SIGKILL
// mid-burst and restarted on the same state, then an audit of what the client was told, what the
// proxy's ledger says and what RunAPI (the simulator) did. Exits 1 on a lost task, work RunAPI did
// that nobody was charged for, a double create, or a reservation open past the reconciliation window.
//
// The simulator runs in this process's workerd; the proxy in a child process with its own process
// group (scripts/chaos-proxy.mjs), so killing that group kills the proxy's workerd and nothing else.
// Knobs: CHAOS_BURST (default 200), CHAOS_CONCURRENCY (20), CHAOS_KILL_AT (0.4), CHAOS_VERBOSE=1.

import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { bundleWorkers, client, ensureTenant, envVar, issueKey, miniflareOptions, readWranglerConfig, waitHealthy } from "./local.mjs";

const HOST = "127.0.0.1";
const UPSTREAM_KEY = "sk-chaos-sim-upstream";
const ADMIN_TOKEN = `adm-chaos-${randomUUID()}`;
const BURST = Number(envVar("CHAOS_BURST") ?? 200);
const CONCURRENCY = Number(envVar("CHAOS_CONCURRENCY") ?? 20);
const KILL_AT = Number(envVar("CHAOS_KILL_AT") ?? 0.4);
const VERBOSE = envVar("CHAOS_VERBOSE") === "1";
const RECONCILE_DEADLINE_MS = 120_000;
/** A reservation still open this long after it was made is a violation (the proxy's longest create is ~8 s, its TTL 60 s). */
const RECONCILE_WINDOW_MS = 90_000;
/** A client gives up retrying one request after this long. */
const CLIENT_PATIENCE_MS = 90_000;
const REQUEST_TIMEOUT_MS = 20_000;
/** A reservation held longer than this is listed (the proxy's longest create is 3 × 1 s + 0.15 s + 5 s). */
const LONG_HOLD_MS = 20_000;

const PROXY_VARS = {
  UPSTREAM_TIMEOUT_MS: "1000",
  UPSTREAM_RETRY_BASE_MS: "50",
  TASK_POLL_AFTER_SECONDS: "2",
  TASK_POLL_INTERVAL_SECONDS: "1",
  TASK_TTL_SECONDS: "60",
  ALLOW_HTTP_URLS: "true",
  ALLOW_PRIVATE_URLS: "true",
};
const SIM_VARS = {
  SIM_API_KEY: UPSTREAM_KEY,
  SIM_CALLBACK_MODE: "fetch",
  SIM_PROCESSING_AFTER_MS: "1000",
  SIM_COMPLETE_AFTER_MS: "3000",
  SIM_SLOW_MS: "2500", // above UPSTREAM_TIMEOUT_MS: the proxy loses the answer of a slow create
};

/** The prompt mix: weight and marker. */
const KINDS = [
  { kind: "normal", weight: 50, marker: "" },
  { kind: "slow", weight: 20, marker: " [sim:slow]" },
  { kind: "fail", weight: 10, marker: " [sim:fail]" },
  { kind: "500", weight: 10, marker: " [sim:500]" },
  { kind: "429", weight: 10, marker: " [sim:429]" },
];
const TENANTS = {
  main: { name: "Chaos main", budget: { limit_usd: 1000, period: "day" } },
  tight: { name: "Chaos tight", budget: { limit_usd: 1.5, period: "day" }, limits: { max_concurrent_tasks: 3 } },
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const micros = (usd) => Math.round(Number(usd) * 1e6);
const usd = (m) => `$${(m / 1e6).toFixed(2)}`;
const debug = (...args) => VERBOSE && console.error("[chaos]", ...args);

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Processes in a process group (pid, command), from `ps`. */
function processGroup(pgid) {
  const out = execFileSync("ps", ["-eo", "pid=,pgid=,comm="], { encoding: "utf8" });
  return out
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 3 && Number(f[1]) === pgid)
    .map(([pid, , comm]) => ({ pid: Number(pid), comm }));
}

// ---------------------------------------------------------------------------------------------
// The proxy child

/** Starts scripts/chaos-proxy.mjs in its own process group; resolves once it answers /health. */
function startProxyChild(spec) {
  const child = spawn(process.execPath, [fileURLToPath(new URL("./chaos-proxy.mjs", import.meta.url)), JSON.stringify(spec)], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
    if (VERBOSE) process.stderr.write(`[proxy] ${d}`);
  });
  const ready = new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("READY ")) resolve(child);
    });
    child.once("exit", (code, signal) => reject(new Error(`proxy child exited (${code ?? signal}) before it was ready: ${stderr.slice(-2000)}`)));
  });
  return ready;
}

/** SIGKILLs the child's whole process group; returns what `ps` saw in the group before and after. */
async function killProxyGroup(child) {
  const before = processGroup(child.pid);
  const exited = new Promise((r) => child.once("exit", r));
  process.kill(-child.pid, "SIGKILL");
  await exited;
  let after = processGroup(child.pid);
  for (let i = 0; i < 50 && after.length; i++) {
    await sleep(100);
    after = processGroup(child.pid);
  }
  return { before, after };
}

async function stopProxyGroup(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  if (!done) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The client

/** One create request the client sends (and retries with its same Idempotency-Key). */
function makeRequests(runId) {
  const total = KINDS.reduce((s, k) => s + k.weight, 0);
  const requests = [];
  for (let i = 0; i < BURST; i++) {
    // Deterministic spread of kinds; every fifth request goes to the tight tenant.
    let pick = (i * 37) % total;
    const kind = KINDS.find((k) => (pick -= k.weight) < 0);
    const nonce = `chaos-${runId}-${i}`;
    requests.push({
      idx: i,
      tenant: i % 5 === 4 ? "tight" : "main",
      kind: kind.kind,
      key: `idem-${nonce}`,
      nonce,
      body: { model: "hailuo-02-text-to-video-standard", prompt: `a fox crossing a river at dawn ${nonce}${kind.marker}`, duration_seconds: 6 },
      attempts: [],
    });
  }
  return requests;
}

/** One attempt: status and task id, an error code, or a connection error. */
async function attempt(base, token, req) {
  const started = Date.now();
  try {
    const res = await fetch(`${base}/api/v1/hailuo/text_to_video`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Idempotency-Key": req.key },
      body: JSON.stringify(req.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const out = { status: res.status, ms: Date.now() - started };
    if (res.ok) {
      out.id = json?.id;
      if (json?.submission) out.submission = json.submission;
      if (res.headers.get("idempotent-replayed")) out.replayed = true;
    } else {
      out.error = json?.error?.code ?? text.slice(0, 80);
      if (json?.error?.details?.task_id) out.errTaskId = json.error.details.task_id;
      out.retryAfter = Number(res.headers.get("retry-after") ?? 0);
    }
    return out;
  } catch (err) {
    return { status: "conn", error: err?.cause?.code ?? err?.name ?? "error", ms: Date.now() - started };
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the proxy and the simulator

async function pagedTasks(api, token) {
  const tasks = [];
  let cursor;
  do {
    const res = await api.get(`/api/v1/tasks?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, token);
    if (res.status !== 200) throw new Error(`GET /api/v1/tasks answered ${res.status}: ${res.text.slice(0, 200)}`);
    tasks.push(...res.json.tasks);
    cursor = res.json.next_cursor;
  } while (cursor);
  return tasks;
}

async function ledger(api, tenantId) {
  const entries = [];
  let cursor;
  do {
    const res = await api.get(`/admin/v1/tenants/${tenantId}/ledger?format=json&limit=1000${cursor ? `&cursor=${cursor}` : ""}`, ADMIN_TOKEN);
    if (res.status !== 200) throw new Error(`ledger export answered ${res.status}: ${res.text.slice(0, 200)}`);
    entries.push(...res.json.entries);
    cursor = res.json.next_cursor;
  } while (cursor);
  return entries;
}

async function tenantUsage(api, tenantId) {
  const res = await api.get(`/admin/v1/tenants/${tenantId}/usage`, ADMIN_TOKEN);
  if (res.status !== 200) throw new Error(`usage answered ${res.status}: ${res.text.slice(0, 200)}`);
  const scope = res.json.budgets.find((b) => b.scope === "tenant");
  return { spent: micros(scope.spent_usd), reserved: micros(scope.reserved_usd) };
}

/** Reservations from ledger entries: per task, when reserved, the amount, and how it closed (if it did). */
function reservations(entries) {
  const byTask = new Map();
  for (const e of entries) {
    if (!e.task_id) continue;
    if (e.type === "reserve") byTask.set(e.task_id, { task_id: e.task_id, at: Date.parse(e.at), amount: e.amount_micros, closes: [] });
    else if (e.type === "settle" || e.type === "release") byTask.get(e.task_id)?.closes.push({ type: e.type, at: Date.parse(e.at), amount: e.amount_micros });
  }
  return byTask;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const runId = randomUUID().slice(0, 8);
  const t0 = Date.now();
  const workDir = await mkdtemp(join(tmpdir(), "runapi-chaos-"));
  const persistRoot = join(workDir, "state");
  const scripts = await bundleWorkers(join(workDir, "build"));
  const wrangler = await readWranglerConfig();
  const [proxyPort, simPort] = [await freePort(), await freePort()];
  const base = `http://${HOST}:${proxyPort}`;
  const simBase = `http://${HOST}:${simPort}`;

  // The simulator: its own workerd in this process, served on simPort.
  const simOptions = miniflareOptions({
    wrangler,
    scripts,
    host: HOST,
    port: simPort,
    proxyVars: {},
    sim: { port: simPort, vars: SIM_VARS },
    persistRoot: undefined,
  });
  const { unsafeDirectSockets: _direct, ...simWorker } = simOptions.workers[1];
  const sim = new Miniflare({ ...simOptions, workers: [simWorker] });
  let child;
  const cleanup = async () => {
    await stopProxyGroup(child);
    await sim.dispose().catch(() => {});
    await rm(workDir, { recursive: true, force: true }).catch(() => {});
  };
  try {
    await sim.ready;
    const spec = {
      ...scripts,
      wrangler,
      port: proxyPort,
      persistRoot,
      vars: {
        ...PROXY_VARS,
        RUNAPI_BASE_URL: simBase,
        RUNAPI_API_KEY: UPSTREAM_KEY,
        ADMIN_TOKEN,
        SIGNING_SECRET: `sig-chaos-${randomUUID()}`,
        PUBLIC_BASE_URL: base,
      },
    };
    const startedAt = Date.now();
    child = await startProxyChild(spec);
    debug(`proxy up in ${Date.now() - startedAt} ms`);
    const api = client(base);

    // Tenants and keys.
    const tenants = {};
    for (const [name, t] of Object.entries(TENANTS)) {
      const id = `chaos-${name}-${runId}`;
      await ensureTenant(api, ADMIN_TOKEN, { id, ...t });
      tenants[name] = { id, key: (await issueKey(api, ADMIN_TOKEN, id, { kind: "secret", name: "chaos" })).key };
    }

    // The burst: the proxy is killed once KILL_AT of it was sent; sends pause until it is back.
    const requests = makeRequests(runId);
    const killAfter = Math.floor(BURST * KILL_AT);
    let proxyUp = Promise.resolve();
    let kill;
    let restartedAt;
    let sent = 0;
    let killTriggered = false;
    const triggerKill = () => {
      killTriggered = true;
      proxyUp = (async () => {
        await sleep(150); // let the in-flight creates reach RunAPI and the tenant objects
        const inFlight = requests.filter((r) => r.inFlight).length;
        const { before, after } = await killProxyGroup(child);
        const killedAt = Date.now();
        child = await startProxyChild(spec);
        restartedAt = Date.now();
        kill = { before, after, downMs: restartedAt - killedAt, inFlight };
        debug(`killed ${before.map((p) => `${p.pid}:${p.comm}`).join(" ")}; left ${after.length}; restarted in ${kill.downMs} ms`);
      })();
    };

    const run = async (req) => {
      const deadline = Date.now() + CLIENT_PATIENCE_MS;
      let serverErrors = 0;
      let connErrors = 0;
      for (;;) {
        await proxyUp;
        if (sent === killAfter && !killTriggered && req.attempts.length === 0) triggerKill();
        if (req.attempts.length === 0) sent += 1;
        req.inFlight = true;
        const a = await attempt(base, tenants[req.tenant].key, req);
        req.inFlight = false;
        req.attempts.push(a);
        const again =
          (a.status === "conn" && ++connErrors <= 4) ||
          (typeof a.status === "number" && a.status >= 500 && ++serverErrors <= 2) ||
          (a.status === 409 && a.error === "idempotency_conflict" && a.retryAfter > 0);
        if (!again || Date.now() > deadline) return;
        if (a.status === "conn") await sleep(200);
        else await sleep(a.retryAfter ? a.retryAfter * 1000 : 300);
      }
    };
    const queue = [...requests];
    const burstStart = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let req = queue.shift(); req; req = queue.shift()) await run(req);
      }),
    );
    await proxyUp;
    const burstEnd = Date.now();
    debug(`burst done in ${burstEnd - burstStart} ms`);

    // What the client was told: every task id in a 200/202 answer, per Idempotency-Key.
    const told = new Map(); // task id -> request
    const idsPerKey = new Map();
    for (const r of requests) {
      const ids = new Set(r.attempts.filter((a) => a.status === 200 || a.status === 202).map((a) => a.id));
      idsPerKey.set(r.key, ids);
      for (const id of ids) told.set(id, r);
    }

    // Wait for reconciliation: every task terminal, nothing reserved.
    let settledAt = null;
    let lastState = "";
    while (Date.now() - burstEnd < RECONCILE_DEADLINE_MS) {
      const lists = await Promise.all(Object.values(tenants).map((t) => pagedTasks(api, t.key)));
      const usages = await Promise.all(Object.values(tenants).map((t) => tenantUsage(api, t.id)));
      const open = lists.flat().filter((t) => t.status === "pending" || t.status === "processing").length;
      const reserved = usages.reduce((s, u) => s + u.reserved, 0);
      lastState = `${open} tasks unfinished, ${usd(reserved)} reserved`;
      if (open === 0 && reserved === 0) {
        settledAt = Date.now();
        break;
      }
      debug(lastState);
      await sleep(1000);
    }

    // ---- The audit ----
    const violations = [];
    const allTasks = new Map();
    const taskTenant = new Map();
    for (const [name, t] of Object.entries(tenants)) {
      for (const task of await pagedTasks(api, t.key)) {
        allTasks.set(task.id, task);
        taskTenant.set(task.id, name);
      }
    }
    // 1. Lost tasks: every id the client was told about reads back, with the tenant's key, and is listed.
    let found = 0;
    for (const [id, req] of told) {
      const res = await api.get(`/api/v1/tasks/${id}`, tenants[req.tenant].key);
      if (res.status === 200 && allTasks.has(id)) found += 1;
      else violations.push(`LOST TASK ${id} (request ${req.idx}, ${req.kind}): GET answered ${res.status}, listed: ${allTasks.has(id)}`);
    }
    for (const [key, ids] of idsPerKey) {
      if (ids.size > 1) violations.push(`Idempotency-Key ${key} was answered with ${ids.size} different tasks: ${[...ids].join(", ")}`);
    }
    let untoldCompleted = 0;
    for (const task of allTasks.values()) {
      if (task.status === "pending" || task.status === "processing") violations.push(`task ${task.id} is still ${task.status}`);
      // A task the client only ever heard an error about (or nothing) must not go on to run and be charged.
      if (!told.has(task.id) && task.status === "completed") {
        untoldCompleted += 1;
        violations.push(`task ${task.id} completed (and was charged) but the client was never given its id`);
      }
    }

    // 2. Reservations: open ones and their age; spent equals settles minus adjustments; nothing reserved.
    const now = Date.now();
    let openCount = 0;
    let maxOpenAgeMs = 0;
    let longestHeldMs = 0;
    let settledMicros = 0;
    const settles = new Map(); // task id -> amount
    const estimates = new Map(); // task id -> amount reserved (the proxy's estimate)
    const longHeld = []; // reservations held past the proxy's longest create
    for (const [name, t] of Object.entries(tenants)) {
      const entries = await ledger(api, t.id);
      for (const r of reservations(entries).values()) {
        estimates.set(r.task_id, r.amount);
        const heldMs = (r.closes[0]?.at ?? now) - r.at;
        if (heldMs > LONG_HOLD_MS) longHeld.push({ ...r, tenant: name, heldMs });
        if (r.closes.length === 0) {
          openCount += 1;
          maxOpenAgeMs = Math.max(maxOpenAgeMs, now - r.at);
          if (now - r.at > RECONCILE_WINDOW_MS) violations.push(`reservation for ${r.task_id} (${name}) open for ${Math.round((now - r.at) / 1000)} s`);
        } else {
          longestHeldMs = Math.max(longestHeldMs, r.closes[0].at - r.at);
          if (r.closes.length > 1) violations.push(`reservation for ${r.task_id} closed ${r.closes.length} times`);
        }
      }
      const settleSum = entries.filter((e) => e.type === "settle").reduce((s, e) => s + e.amount_micros, 0);
      const adjustSum = entries.filter((e) => e.type === "adjust").reduce((s, e) => s + e.amount_micros, 0);
      for (const e of entries) if (e.type === "settle" && e.task_id) settles.set(e.task_id, (settles.get(e.task_id) ?? 0) + e.amount_micros);
      settledMicros += settleSum;
      const usage = await tenantUsage(api, t.id);
      if (usage.reserved !== 0) violations.push(`tenant ${name}: usage shows ${usd(usage.reserved)} still reserved`);
      if (usage.spent !== settleSum - adjustSum) violations.push(`tenant ${name}: spent ${usd(usage.spent)} but settles − adjustments = ${usd(settleSum - adjustSum)}`);
    }

    const longHeldByKind = new Map();
    for (const r of longHeld) {
      const req = told.get(r.task_id) ?? requests.find((q) => q.attempts.some((a) => a.errTaskId === r.task_id));
      const view = await api.get(`/api/v1/tasks/${r.task_id}`, tenants[r.tenant].key);
      const label = `${req?.kind ?? "untold"} → ${view.json?.status}${view.json?.error_code ? ` (${view.json.error_code})` : ""}`;
      longHeldByKind.set(label, (longHeldByKind.get(label) ?? 0) + 1);
      debug(`held ${(r.heldMs / 1000).toFixed(1)} s: ${r.task_id} ${label}; request ${req?.idx} attempts ${JSON.stringify(req?.attempts)}`);
    }

    // 3. The simulator's record vs the ledger.
    const simRes = await fetch(`${simBase}/__sim/idempotency`);
    const upstream = (await simRes.json()).tasks;
    let upstreamCompleted = 0;
    let workMicros = 0;
    let uncharged = 0;
    const upstreamPerRequest = new Map();
    for (const u of upstream) {
      const nonce = /chaos-[0-9a-f]{8}-\d+/.exec(u.prompt)?.[0];
      upstreamPerRequest.set(nonce, [...(upstreamPerRequest.get(nonce) ?? []), u]);
      const task = allTasks.get(u.key);
      if (!task) {
        violations.push(`RunAPI made task ${u.task_id} for proxy task ${u.key}, which no tenant lists`);
        continue;
      }
      if (u.status === "completed") {
        upstreamCompleted += 1;
        workMicros += estimates.get(u.key) ?? Number.NaN;
        if (!((settles.get(u.key) ?? 0) > 0)) {
          uncharged += 1;
          violations.push(`RunAPI did work nobody was charged for: upstream ${u.task_id}, proxy task ${u.key} (${task.status})`);
        }
      } else if (u.status === "failed" && (settles.get(u.key) ?? 0) > 0) {
        violations.push(`proxy task ${u.key} was charged though RunAPI's task failed`);
      }
    }
    for (const [nonce, list] of upstreamPerRequest) {
      if (list.length > 1) violations.push(`double create: request ${nonce} made ${list.length} upstream tasks (${list.map((u) => u.key).join(", ")})`);
    }
    if (settledMicros !== workMicros) violations.push(`charged ${usd(settledMicros)} but RunAPI's completed work is ${usd(workMicros)} at the proxy's estimates`);
    if (!kill || kill.after.length > 0 || !kill.before.some((p) => p.comm.includes("workerd"))) {
      violations.push(`the kill did not take the proxy's workerd down: before ${JSON.stringify(kill?.before)}, after ${JSON.stringify(kill?.after)}`);
    }
    if (settledAt === null) violations.push(`not reconciled within ${RECONCILE_DEADLINE_MS / 1000} s: ${lastState}`);

    // ---- The report ----
    const outcomes = new Map();
    const firstOutcomes = new Map();
    for (const r of requests) {
      const label = (a) => (a.status === "conn" ? `conn error` : a.status >= 400 ? `${a.status} ${a.error}` : `${a.status}${a.submission ? ` (submission ${a.submission})` : ""}${a.replayed ? " replay" : ""}`);
      const f = label(r.attempts[0]);
      firstOutcomes.set(f, (firstOutcomes.get(f) ?? 0) + 1);
      const l = label(r.attempts.at(-1));
      outcomes.set(l, (outcomes.get(l) ?? 0) + 1);
    }
    const retried = requests.filter((r) => r.attempts.length > 1).length;
    const fmt = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v}`).join(", ");
    const rows = [
      ["burst", `${BURST} creates, ${CONCURRENCY} concurrent (${Object.entries(countBy(requests, "kind")).map(([k, v]) => `${k} ${v}`).join(", ")}; tight tenant ${requests.filter((r) => r.tenant === "tight").length})`],
      ["kill", kill ? `SIGKILL to group ${kill.before.map((p) => p.comm).join("+")} after ${killAfter} sent, ${kill.inFlight} in flight; ${kill.after.length} left in group; back in ${(kill.downMs / 1000).toFixed(1)} s` : "did not happen"],
      ["first answers", fmt(firstOutcomes)],
      ["final answers", `${fmt(outcomes)} (${retried} requests retried)`],
      ["tasks told", `${told.size}`],
      ["tasks found", `${found} of ${told.size} (tenants list ${allTasks.size} tasks: ${fmt(new Map(Object.entries(countBy([...allTasks.values()], "status"))))}; completed but never told: ${untoldCompleted})`],
      ["upstream tasks", `${upstream.length} (${fmt(new Map(Object.entries(countBy(upstream, "status"))))})`],
      ["charged vs RunAPI's work", `${usd(settledMicros)} settled vs ${usd(workMicros)} for ${upstreamCompleted} completed upstream tasks; ${uncharged} uncharged`],
      ["open reservations", `${openCount} (oldest ${(maxOpenAgeMs / 1000).toFixed(1)} s; window ${RECONCILE_WINDOW_MS / 1000} s)`],
      ["longest-held reservation", `${(longestHeldMs / 1000).toFixed(1)} s; held > ${LONG_HOLD_MS / 1000} s: ${longHeld.length}${longHeld.length ? ` (${fmt(longHeldByKind)})` : ""}`],
      ["time to reconcile", settledAt ? `${((settledAt - burstEnd) / 1000).toFixed(1)} s after the burst (${((settledAt - restartedAt) / 1000).toFixed(1)} s after the restart)` : "not within the deadline"],
      ["run time", `${((Date.now() - t0) / 1000).toFixed(1)} s`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log(`\nChaos run ${runId}\n`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
    if (violations.length) {
      console.log(`\nViolations (${violations.length}):`);
      for (const v of violations.slice(0, 50)) console.log(`  - ${v}`);
    }
    console.log(`\n${violations.length ? "CHAOS FAIL" : "CHAOS PASS"}`);
    return violations.length ? 1 : 0;
  } finally {
    await cleanup();
  }
}

function countBy(items, field) {
  const out = {};
  for (const item of items) out[item[field]] = (out[item[field]] ?? 0) + 1;
  return out;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`npm run chaos: ${err instanceof Error ? err.stack : err}`);
    console.log("CHAOS FAIL");
    process.exit(2);
  },
);
