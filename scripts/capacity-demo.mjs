// `node scripts/capacity-demo.mjs`: RunAPI's capacity shared by three tenants, one of them flooding (SPEC §14).
// The proxy and the RunAPI simulator run in local workerd as `npm start` runs them (no state kept); RunAPI allows
// DEMO_CAPACITY tasks in flight (the simulator answers 429 beyond) and the proxy is told so. For DEMO_SECONDS:
//   - "flood" (weight 1, does not queue): DEMO_FLOOD clients sending creates back to back, 250 ms apart after a 429;
//   - "app-a" (weight 1) and "app-b" (weight 2), both `queue: true`: one create every DEMO_EVERY_MS each.
// Then it waits for every task to end and prints, per tenant: creates sent at once (200), queued (202), refused
// (429 upstream_capacity), how long queued creates waited to be sent (p50, p99; polled every 200 ms), and tasks
// completed; and what RunAPI saw (peak in flight, 429s it answered for its capacity).
// Knobs: DEMO_CAPACITY (12), DEMO_SECONDS (30), DEMO_FLOOD (12), DEMO_EVERY_MS (800), DEMO_TASK_MS (2000).

import { Miniflare } from "miniflare";
import { bundleWorkers, client, envVar, issueKey, miniflareOptions, randomToken, readWranglerConfig, waitHealthy } from "./local.mjs";

const HOST = "127.0.0.1";
const CAPACITY = Number(envVar("DEMO_CAPACITY") ?? 12);
const SECONDS = Number(envVar("DEMO_SECONDS") ?? 30);
const FLOOD = Number(envVar("DEMO_FLOOD") ?? 12);
const EVERY_MS = Number(envVar("DEMO_EVERY_MS") ?? 800);
const TASK_MS = Number(envVar("DEMO_TASK_MS") ?? 2000);
const UPSTREAM_KEY = "sk-demo-sim-upstream";
const UNLIMITED = { max_concurrent_tasks: null, requests_per_minute: null };
const TENANTS = [
  { name: "flood", weight: 1, queue: false },
  { name: "app-a", weight: 1, queue: true },
  { name: "app-b", weight: 2, queue: true },
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  if (!xs.length) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const secs = (ms) => (ms === null ? "–" : `${(ms / 1000).toFixed(1)} s`);

async function freePort() {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const s = createServer().listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function main() {
  const [port, simPort] = [await freePort(), await freePort()];
  const base = `http://${HOST}:${port}`;
  const adminToken = randomToken("adm_demo_");
  const wrangler = await readWranglerConfig();
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const buildDir = await mkdtemp(join(tmpdir(), "runapi-capacity-demo-"));
  const scripts = await bundleWorkers(buildDir);
  const mf = new Miniflare(
    miniflareOptions({
      wrangler,
      scripts,
      host: HOST,
      port,
      proxyVars: {
        ...wrangler.vars,
        RUNAPI_BASE_URL: `http://${HOST}:${simPort}`,
        RUNAPI_API_KEY: UPSTREAM_KEY,
        ADMIN_TOKEN: adminToken,
        SIGNING_SECRET: randomToken("sig_demo_", 32),
        PUBLIC_BASE_URL: base,
        ALLOW_HTTP_URLS: "true",
        ALLOW_PRIVATE_URLS: "true",
        UPSTREAM_MAX_CONCURRENT_TASKS: String(CAPACITY),
        UPSTREAM_REQUESTS_PER_MINUTE: "0",
      },
      sim: {
        port: simPort,
        vars: {
          SIM_API_KEY: UPSTREAM_KEY,
          SIM_CALLBACK_MODE: "fetch",
          SIM_PROCESSING_AFTER_MS: String(Math.floor(TASK_MS / 3)),
          SIM_COMPLETE_AFTER_MS: String(TASK_MS),
          SIM_MAX_CONCURRENT: String(CAPACITY),
        },
      },
      persistRoot: undefined,
      onLog: envVar("DEMO_LOG") === "1" ? (e) => console.error(JSON.stringify(e)) : () => {}, // the proxy's request lines would drown the table
    }),
  );
  try {
    await mf.ready;
    await waitHealthy(base);
    const api = client(base);
    const runId = randomToken("", 4).toLowerCase();
    for (const t of TENANTS) {
      t.id = `demo-${t.name}-${runId}`;
      const res = await api.post("/admin/v1/tenants", adminToken, {
        id: t.id,
        name: `Capacity demo ${t.name}`,
        budget: { limit_usd: 10_000, period: "day" },
        limits: UNLIMITED,
        capacity_weight: t.weight,
        queue: t.queue,
      });
      if (res.status !== 201) throw new Error(`POST /admin/v1/tenants answered ${res.status}: ${res.text}`);
      t.key = (await issueKey(api, adminToken, t.id, { kind: "secret", name: "demo" })).key;
      t.stats = { sent: 0, queued: 0, refused: 0, other: 0 };
      t.waitingSince = new Map(); // queued task id -> when its create was answered
      t.waits = [];
      t.ids = [];
    }

    let refusal; // the first 429 upstream_capacity, as the client got it
    const create = async (t, i) => {
      const res = await fetch(`${base}/api/v1/hailuo/text_to_video`, {
        method: "POST",
        headers: { Authorization: `Bearer ${t.key}`, "Content-Type": "application/json" },
        body: JSON.stringify({ model: "hailuo-02-text-to-video-standard", prompt: `capacity demo ${t.name} ${runId} ${i}`, duration_seconds: 6 }),
      });
      const body = await res.json().catch(() => ({}));
      if (res.status === 200) t.stats.sent += 1;
      else if (res.status === 202 && body.status === "queued") {
        t.stats.queued += 1;
        t.waitingSince.set(body.id, Date.now());
      } else if (res.status === 202)
        t.stats.sent += 1; // RunAPI's answer lost or a 429 it will retry: held, not queued
      else if (res.status === 429 && body.error?.details?.reason === "upstream_capacity") {
        t.stats.refused += 1;
        refusal ??= `HTTP/1.1 429\nRetry-After: ${res.headers.get("retry-after")}\n\n${JSON.stringify(body)}`;
      } else t.stats.other += 1;
      if (body.id) t.ids.push(body.id);
      return res.status;
    };

    // Queued tasks leave the queue when their status is no longer `queued`: polled every 200 ms.
    let watching = true;
    const watch = (async () => {
      while (watching || TENANTS.some((t) => t.waitingSince.size)) {
        for (const t of TENANTS) {
          if (!t.waitingSince.size) continue;
          const res = await api.get("/api/v1/tasks?status=queued&limit=100", t.key);
          const still = new Set((res.json?.tasks ?? []).map((x) => x.id));
          const more = res.json?.next_cursor;
          for (const [id, since] of t.waitingSince) {
            if (still.has(id) || more) continue;
            t.waits.push(Date.now() - since);
            t.waitingSince.delete(id);
          }
        }
        await sleep(200);
      }
    })();

    // DEMO_VERBOSE=1: the coordinator's view every 2 s.
    const verbose =
      envVar("DEMO_VERBOSE") === "1" &&
      setInterval(async () => {
        const c = (await api.get("/admin/v1/capacity", adminToken).catch(() => null))?.json;
        if (!c) return console.error("[capacity] no answer");
        const row = (x) =>
          `${x.tenant_id.split("-")[1]}: run ${x.in_flight} q ${x.queued} want ${x.want_slots}+${x.want_headroom} held ${x.held_slots} target ${x.target_slots}`;
        console.error(`[capacity] effective ${c.slots?.effective} held ${c.slots?.held} in flight ${c.slots?.in_flight} | ${c.tenants.map(row).join(" | ")}`);
      }, 2000);
    const until = Date.now() + SECONDS * 1000;
    let n = 0;
    const flood = TENANTS[0];
    const flooders = Array.from({ length: FLOOD }, async () => {
      while (Date.now() < until) if ((await create(flood, n++)) !== 200) await sleep(250);
    });
    const steady = TENANTS.slice(1).map(async (t) => {
      while (Date.now() < until) {
        void create(t, n++);
        await sleep(EVERY_MS);
      }
    });
    await Promise.all([...flooders, ...steady]);
    watching = false;
    if (verbose) clearInterval(verbose);
    await watch;

    // Every task ends (RunAPI completes them all); then count.
    const deadline = Date.now() + 120_000;
    for (;;) {
      let open = 0;
      for (const t of TENANTS) {
        for (const status of ["queued", "pending", "processing"]) {
          const res = await api.get(`/api/v1/tasks?status=${status}&limit=100`, t.key);
          open += res.json?.tasks?.length ?? 0;
        }
      }
      if (open === 0) break;
      if (Date.now() > deadline) throw new Error(`${open} tasks still unfinished 120 s after the run`);
      await sleep(500);
    }
    for (const t of TENANTS) {
      const res = await api.get("/api/v1/tasks?status=completed&limit=100", t.key);
      let completed = res.json.tasks.length;
      let cursor = res.json.next_cursor;
      while (cursor) {
        const page = await api.get(`/api/v1/tasks?status=completed&limit=100&cursor=${encodeURIComponent(cursor)}`, t.key);
        completed += page.json.tasks.length;
        cursor = page.json.next_cursor;
      }
      t.completed = completed;
    }
    const account = await (await fetch(`http://${HOST}:${simPort}/__sim/limits`)).json();

    console.log(
      `\nRunAPI allows ${CAPACITY} tasks in flight (each runs ~${TASK_MS / 1000} s); ${SECONDS} s of load: "flood" ${FLOOD} clients back to back, "app-a" and "app-b" one create every ${EVERY_MS} ms each.\n`,
    );
    console.log("| tenant | weight | queues | sent at once (200) | queued (202) | refused (429 upstream_capacity) | queued wait p50 | p99 | completed |");
    console.log("|---|---|---|---|---|---|---|---|---|");
    for (const t of TENANTS) {
      const s = t.stats;
      console.log(
        `| ${t.name} | ${t.weight} | ${t.queue ? "yes" : "no"} | ${s.sent} | ${s.queued} | ${s.refused}${s.other ? ` (+${s.other} other)` : ""} | ${secs(pct(t.waits, 50))} | ${secs(pct(t.waits, 99))} | ${t.completed} |`,
      );
    }
    console.log(
      `\nRunAPI: peak ${account.peak_in_flight} tasks in flight of ${account.max_concurrent}; 429s it answered for its capacity: ${account.refused}.`,
    );
    if (refusal) console.log(`\nThe first refusal:\n${refusal}`);
    await rm(buildDir, { recursive: true, force: true }).catch(() => {});
  } finally {
    await mf.dispose().catch(() => {});
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
