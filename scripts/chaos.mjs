// `npm run chaos`: a burst of creates against the proxy, the proxy's workerd killed with SIGKILL
// mid-burst and restarted on the same state, then an audit of what the client was told, what the
// proxy's ledger says and what RunAPI (the simulator) did. Exits 1 on a lost task, work RunAPI did
// that nobody was charged for, a double create, or a reservation open past the reconciliation window.
// RunAPI's account allows CHAOS_CAPACITY tasks in flight (the simulator answers 429 beyond), and so
// does the proxy (SPEC §14): one tenant queues beyond its share, so the kill finds a queue to lose.
//
// The simulator runs in this process's workerd; the proxy in a child process with its own process
// group (scripts/chaos-proxy.mjs), so killing that group kills the proxy's workerd and nothing else.
// Knobs: CHAOS_BURST (default 200), CHAOS_CONCURRENCY (20), CHAOS_KILL_AT (0.4), CHAOS_CAPACITY (12), CHAOS_VERBOSE=1.

import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { auditRun } from "./chaos-audit.mjs";
import { bundleWorkers, client, ensureTenant, envVar, issueKey, miniflareOptions, readWranglerConfig } from "./local.mjs";

const HOST = "127.0.0.1";
const UPSTREAM_KEY = "sk-chaos-sim-upstream";
const ADMIN_TOKEN = `adm-chaos-${randomUUID()}`;
const BURST = Number(envVar("CHAOS_BURST") ?? 200);
const CONCURRENCY = Number(envVar("CHAOS_CONCURRENCY") ?? 20);
const KILL_AT = Number(envVar("CHAOS_KILL_AT") ?? 0.4);
const CAPACITY = Number(envVar("CHAOS_CAPACITY") ?? 12);
const VERBOSE = envVar("CHAOS_VERBOSE") === "1";
/** A client gives up retrying one request after this long. */
const CLIENT_PATIENCE_MS = 90_000;
const REQUEST_TIMEOUT_MS = 20_000;

const PROXY_VARS = {
  UPSTREAM_TIMEOUT_MS: "1000",
  UPSTREAM_RETRY_BASE_MS: "50",
  TASK_POLL_AFTER_SECONDS: "2",
  TASK_POLL_INTERVAL_SECONDS: "1",
  TASK_TTL_SECONDS: "60",
  ALLOW_HTTP_URLS: "true",
  ALLOW_PRIVATE_URLS: "true",
  UPSTREAM_MAX_CONCURRENT_TASKS: String(CAPACITY),
  UPSTREAM_REQUESTS_PER_MINUTE: "0",
};
const SIM_VARS = {
  SIM_API_KEY: UPSTREAM_KEY,
  SIM_CALLBACK_MODE: "fetch",
  SIM_PROCESSING_AFTER_MS: "1000",
  SIM_COMPLETE_AFTER_MS: "3000",
  SIM_SLOW_MS: "2500", // above UPSTREAM_TIMEOUT_MS: the proxy loses the answer of a slow create
  SIM_MAX_CONCURRENT: String(CAPACITY),
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
  main: { name: "Chaos main", budget: { limit_usd: 1000, period: "day" }, limits: { max_concurrent_tasks: null, requests_per_minute: null } },
  tight: { name: "Chaos tight", budget: { limit_usd: 1.5, period: "day" }, limits: { max_concurrent_tasks: 3, requests_per_minute: null } },
  // Beyond its share of RunAPI's capacity its creates wait in its queue (status "queued", money held).
  queue: { name: "Chaos queue", budget: { limit_usd: 1000, period: "day" }, limits: { max_concurrent_tasks: null, requests_per_minute: null }, queue: true },
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
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

/** Processes in a process group (pid, command): from /proc on Linux (slim images have no `ps`), else `ps`. */
function processGroup(pgid) {
  if (existsSync("/proc/self/stat")) {
    const found = [];
    for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      let stat;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      } catch {
        continue; // gone meanwhile
      }
      // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses.
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") found.push({ pid: Number(pid), comm });
    }
    return found;
  }
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
    // Keep reading stdout (the proxy's logs) so the pipe never fills and blocks it.
    let out = "";
    child.stdout.on("data", (d) => {
      if (out === null) return;
      out += d;
      if (out.includes("READY ")) {
        out = null;
        resolve(child);
      }
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
    // Deterministic spread of kinds; every fifth request goes to the tight tenant, two in five to the queuing one.
    let pick = (i * 37) % total;
    const tenant = i % 5 === 4 ? "tight" : i % 5 === 1 || i % 5 === 3 ? "queue" : "main";
    let kind = KINDS.find((k) => (pick -= k.weight) < 0);
    // The queuing tenant's creates wait only for capacity: a RunAPI that answers 500 or too slowly for ever leaves a
    // task's outcome unknown until its TTL (it may be running, so it keeps its slot), which is the main tenant's test.
    if (tenant === "queue" && (kind.kind === "500" || kind.kind === "slow")) kind = KINDS.find((k) => k.kind === "normal");
    const nonce = `chaos-${runId}-${i}`;
    requests.push({
      idx: i,
      tenant,
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
        // The queuing tenant's own object knows its queue (the coordinator's view is as of its last report).
        const waiting = await api.get("/api/v1/tasks?status=queued&limit=100", tenants.queue.key).catch(() => null);
        const queued = waiting?.json?.tasks?.length ?? null;
        const { before, after } = await killProxyGroup(child);
        const killedAt = Date.now();
        child = await startProxyChild(spec);
        restartedAt = Date.now();
        kill = { before, after, downMs: restartedAt - killedAt, inFlight, queued };
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

    const violations = await auditRun({
      api,
      adminToken: ADMIN_TOKEN,
      simBase,
      tenants,
      requests,
      kill,
      killAfter,
      burst: BURST,
      concurrency: CONCURRENCY,
      burstEnd,
      restartedAt,
      t0,
      runId,
      debug,
      capacity: CAPACITY,
    });
    return violations ? 1 : 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`npm run chaos: ${err instanceof Error ? err.stack : err}`);
    console.log("CHAOS FAIL");
    process.exit(2);
  },
);
