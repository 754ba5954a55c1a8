// `npm run hostile`: the proxy in local workerd in front of a RunAPI that misbehaves (sim/hostile, itself in
// front of the simulator), a well-behaved tenant making requests all along, and every misbehaviour of SPEC §13
// in turn. Prints what the proxy did for each (status, time, the proxy's workerd RSS before, at its peak and
// after, and the well-behaved tenant's p99 meanwhile), then that tenant's latency before and during, internal
// bytes served and unbilled upstream work. Exits 1 on a violation: internal bytes served, upstream work not
// charged, a stream past its cap, a 500, a proxy that stopped answering or a well-behaved request that failed.
// A report, not a benchmark: the well-behaved client shares this process (and the machine) with the attacks.
//
// The proxy runs in its own workerd (its RSS is the proxy's alone); RunAPI's stand-ins in another.
// Knobs: HOSTILE_ONLY=<substring of a behaviour's name>, HOSTILE_VERBOSE=1.

import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Miniflare } from "miniflare";
import { CASES, tenant } from "./hostile-cases.mjs";
import { bundleWorkers, client, envVar, miniflareOptions, readWranglerConfig, waitHealthy } from "./local.mjs";

const HOST = "127.0.0.1";
const UPSTREAM_KEY = "sk-hostile-upstream";
const ADMIN_TOKEN = `adm-hostile-${randomUUID()}`;
const ONLY = envVar("HOSTILE_ONLY");
const VERBOSE = envVar("HOSTILE_VERBOSE") === "1";
/** What the internal service hands out; never to be seen through the proxy. */
const SECRET = `INTERNAL-SECRET-${randomUUID()}`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** workerd processes started by this process (Miniflare spawns them as children). */
function workerdChildren() {
  const pids = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && comm.startsWith("workerd")) pids.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** A /proc/<pid>/status field in MiB (VmRSS now, VmHWM the peak so far). */
function memMiB(pid, field = "VmRSS") {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  return line ? Math.round(Number(line[1]) / 1024) : NaN;
}

/** An internal HTTP service on loopback (think cloud metadata): counts every request and the bytes it served. */
async function internalService() {
  const seen = { requests: 0, bytes: 0 };
  const server = createServer((_req, res) => {
    seen.requests++;
    seen.bytes += SECRET.length;
    res.writeHead(200, { "Content-Type": "video/mp4", "Content-Length": SECRET.length }).end(SECRET);
  });
  await new Promise((resolve) => server.listen(0, HOST, resolve));
  return { seen, url: `http://${HOST}:${server.address().port}/secret`, close: () => server.close() };
}

/** The well-behaved tenant: two loops of creates, status reads and chats, each request's latency tagged with the phase. */
function wellBehaved(api, key, phase) {
  const samples = [];
  let running = true;
  let ids = [];
  const loop = async (n) => {
    for (let i = 0; running; i++) {
      const kind = ["create", "read", "chat"][(i + n) % 3];
      const started = performance.now();
      let status;
      try {
        if (kind === "create") {
          const res = await api.post("/api/v1/hailuo/text_to_video", key, {
            model: "hailuo-02-text-to-video-standard",
            prompt: `good ${i}`,
            duration_seconds: 6,
          });
          status = res.status;
          if (res.json?.id) ids = [res.json.id, ...ids].slice(0, 20);
        } else if (kind === "read" && ids.length) {
          status = (await api.get(`/api/v1/tasks/${ids[i % ids.length]}`, key)).status;
        } else {
          status = (await api.post("/v1/chat/completions", key, { model: "gpt-4o-mini", messages: [{ role: "user", content: `hi ${i}` }] })).status;
        }
      } catch (err) {
        status = 0;
        if (VERBOSE) console.error(`[good] ${kind} failed: ${err?.cause?.code ?? err?.message}`);
      }
      samples.push({ phase: phase(), kind, ms: performance.now() - started, status });
      await sleep(50);
    }
  };
  const loops = [loop(0), loop(1)];
  return {
    samples,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

const percentile = (xs, p) => {
  if (!xs.length) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const ms = (x) => (Number.isNaN(x) ? "–" : `${x.toFixed(0)} ms`);

async function main() {
  const workDir = await mkdtemp(join(tmpdir(), "runapi-hostile-"));
  const scripts = await bundleWorkers(join(workDir, "build"));
  const wrangler = await readWranglerConfig();
  const internal = await internalService();

  // RunAPI: the hostile front (served) and the simulator behind it, in one workerd.
  const upstream = new Miniflare({
    workers: [
      {
        name: "runapi-hostile",
        modules: true,
        scriptPath: scripts.hostileScript,
        modulesRoot: dirname(scripts.hostileScript),
        compatibilityDate: wrangler.compatibilityDate,
        serviceBindings: { UPSTREAM: "runapi-sim" },
      },
      {
        name: "runapi-sim",
        modules: true,
        scriptPath: scripts.simScript,
        modulesRoot: dirname(scripts.simScript),
        compatibilityDate: wrangler.compatibilityDate,
        durableObjects: { SIM: { className: "SimState", useSQLite: true } },
        bindings: { SIM_API_KEY: UPSTREAM_KEY, SIM_CALLBACK_MODE: "fetch", SIM_PROCESSING_AFTER_MS: "300", SIM_COMPLETE_AFTER_MS: "800" },
      },
    ],
    host: HOST,
    port: 0,
    cf: false,
    handleStructuredLogs: VERBOSE ? (entry) => console.error(`[upstream] ${entry.message}`) : () => {},
    telemetry: { enabled: false },
    kvPersist: false,
    durableObjectsPersist: false,
  });
  const upstreamBase = (await upstream.ready).origin;
  const before = new Set(workerdChildren());

  const port = Number(envVar("PORT") ?? 0) || 8797;
  const base = `http://${HOST}:${port}`;
  const proxy = new Miniflare(
    miniflareOptions({
      wrangler,
      scripts,
      host: HOST,
      port,
      proxyVars: {
        ...wrangler.vars,
        RUNAPI_BASE_URL: upstreamBase,
        RUNAPI_API_KEY: UPSTREAM_KEY,
        ADMIN_TOKEN,
        SIGNING_SECRET: `sig-hostile-${randomUUID()}`,
        PUBLIC_BASE_URL: base,
        CHAT_TIMEOUT_MS: "3000",
        UPSTREAM_TIMEOUT_MS: "5000",
        ALLOW_HTTP_URLS: "true", // RunAPI's stand-in is plain http; private hosts stay refused
        ALLOW_PRIVATE_URLS: "false",
        // RunAPI's capacity (SPEC §14) is not what this run tests: limits above anything it sends.
        UPSTREAM_MAX_CONCURRENT_TASKS: "100000",
        UPSTREAM_REQUESTS_PER_MINUTE: "1000000",
      },
      sim: undefined,
      persistRoot: undefined,
      onLog: VERBOSE ? (entry) => console.error(`[proxy] ${entry.message}`) : () => {},
    }),
  );
  const cleanup = async () => {
    await proxy.dispose().catch(() => {});
    await upstream.dispose().catch(() => {});
    internal.close();
    await rm(workDir, { recursive: true, force: true }).catch(() => {});
  };
  try {
    await proxy.ready;
    await waitHealthy(base);
    const pid = workerdChildren().find((p) => !before.has(p));
    if (!pid) throw new Error("could not find the proxy's workerd process");
    const api = client(base);
    const ctx = { api, base, adminToken: ADMIN_TOKEN, upstreamBase, internal, secret: SECRET };
    const good = await tenant(ctx, "good");

    let phase = "warm-up"; // the first requests of a fresh isolate compile code: not a baseline
    const traffic = wellBehaved(api, good.key, () => phase);
    await sleep(2_000);
    phase = "before";
    await sleep(5_000);

    const rows = [];
    for (const c of CASES.filter((c) => !ONLY || c.name.includes(ONLY))) {
      phase = c.name;
      const rssBefore = memMiB(pid);
      let peak = rssBefore;
      const sampler = setInterval(() => {
        peak = Math.max(peak, memMiB(pid));
      }, 25);
      const started = performance.now();
      let result;
      try {
        result = await c.run(ctx);
      } catch (err) {
        result = { status: "error", outcome: String(err?.message ?? err), violation: `the case failed: ${err?.message ?? err}` };
      }
      clearInterval(sampler);
      const row = { name: c.name, ms: performance.now() - started, rssBefore, peak: Math.max(peak, memMiB(pid)), rssAfter: memMiB(pid), ...result };
      rows.push(row);
      if (VERBOSE) console.error(row);
      phase = "between";
      await sleep(500);
    }
    await traffic.stop();

    const healthy = (await fetch(`${base}/health`).catch(() => null))?.status === 200;
    report({ rows, samples: traffic.samples, peakRss: memMiB(pid, "VmHWM"), internal, healthy });
    const violations = [
      ...rows.filter((r) => r.violation).map((r) => `${r.name}: ${r.violation}`),
      ...(internal.seen.requests ? [`the internal service was called ${internal.seen.requests} times`] : []),
      ...(rows.some((r) => r.internalBytes) ? ["internal bytes were served through the proxy"] : []),
      ...(healthy ? [] : ["the proxy stopped answering /health"]),
      ...traffic.samples.filter((s) => s.status !== 200).map((s) => `well-behaved ${s.kind} answered ${s.status} during ${s.phase}`),
    ];
    console.log(violations.length ? `\nVIOLATIONS:\n  ${violations.join("\n  ")}` : "\nNo violation.");
    process.exitCode = violations.length ? 1 : 0;
  } finally {
    await cleanup();
  }
}

function report({ rows, samples, peakRss, internal, healthy }) {
  const unbilled = rows.reduce((sum, r) => sum + (r.unbilledMicros ?? 0), 0);
  console.log("\nnpm run hostile: the proxy in front of a misbehaving RunAPI (sim/hostile)\n");
  const pad = (s, n) => String(s).padEnd(n);
  const lat = (phase) => samples.filter((s) => phase(s.phase)).map((s) => s.ms);
  console.log(
    `${pad("behaviour", 46)}${pad("answer", 8)}${pad("time", 9)}${pad("proxy RSS MiB: before → peak → after", 38)}${pad("good p99", 10)}what the proxy did`,
  );
  for (const r of rows) {
    const rss = `${r.rssBefore} → ${r.peak} → ${r.rssAfter}`;
    const p99 = ms(
      percentile(
        lat((p) => p === r.name),
        99,
      ),
    );
    console.log(`${pad(r.name, 46)}${pad(r.status, 8)}${pad(`${(r.ms / 1000).toFixed(1)} s`, 9)}${pad(rss, 38)}${pad(p99, 10)}${r.outcome}`);
  }
  const beforeMs = lat((p) => p === "before");
  const duringMs = lat((p) => p !== "warm-up" && p !== "before" && p !== "between");
  console.log(
    `\nwell-behaved tenant (creates, reads, chats): before ${beforeMs.length} requests p50 ${ms(percentile(beforeMs, 50))} p99 ${ms(percentile(beforeMs, 99))}; ` +
      `during the attacks ${duringMs.length} requests p50 ${ms(percentile(duringMs, 50))} p99 ${ms(percentile(duringMs, 99))}; ` +
      `failed ${samples.filter((s) => s.status !== 200).length}`,
  );
  console.log(`proxy workerd peak RSS (VmHWM): ${peakRss} MiB; /health at the end: ${healthy ? "200" : "no answer"}`);
  console.log(
    `internal service: ${internal.seen.requests} requests, ${internal.seen.bytes} bytes; internal bytes served by the proxy: ${rows.some((r) => r.internalBytes) ? "YES" : 0}`,
  );
  console.log(`upstream work not charged: $${(unbilled / 1e6).toFixed(6)}`);
}

await main();
