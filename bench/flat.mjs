// Issue 20's measurements, called from scripts/bench.mjs after its ledger check, in the same run:
//   chat     POST /v1/chat/completions: proxy vs. the reference vs. the simulator directly (Portkey, optional in the
//            issue, is not run here: it is not a dependency),
//            at 1 connection (latency, one request at a time, timed exactly) and at N (autocannon): interleaved rounds
//   create   POST /api/v1/hailuo/text_to_video on a tenant with 0 and one with 100 000 stored tasks, interleaved rounds
//   alarm    the tenant object's alarm, run ALARMS times on each of those tenants: workerd CPU per alarm
//   rows     SQLite rows one video task writes: create → RunAPI's callback → settled, and its whole life (the video's copy too)
// Env: BENCH_ROUNDS (3), BENCH_SEED_TASKS (100000), BENCH_ALARMS (2000), BENCH_ROW_TASKS (10).

import { performance } from "node:perf_hooks";
import autocannon from "autocannon";

const env = (name, fallback) => {
  const n = process.env[name] === undefined ? fallback : Number(process.env[name]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};
const ROUNDS = env("BENCH_ROUNDS", 3);
const SEED_TASKS = env("BENCH_SEED_TASKS", 100_000);
const ALARMS = env("BENCH_ALARMS", 2000);
const ROW_TASKS = env("BENCH_ROW_TASKS", 10);

const CHAT = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [
    { role: "system", content: "You are a terse assistant." },
    { role: "user", content: "bench: name three colours of the sea at dawn, please, in one sentence" },
  ],
  max_tokens: 256,
});
const round = (n, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const ratio = (a, b) => (a === null || b === null || !b ? null : round(a / b, 2));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : null;
};

function cannon(opts) {
  return new Promise((resolve, reject) => autocannon({ timeout: 30, ...opts }, (err, r) => (err ? reject(err) : resolve(r))));
}

/**
 * `targets` measured in `ROUNDS` interleaved rounds (the order alternates each round), so a change in the machine's load
 * falls on all of them alike; per target: requests/s over all rounds, workerd CPU per request, failures.
 */
async function interleaved(targets, { connections, seconds, warmup, cpuMs }) {
  for (const t of targets) await cannon({ ...t.opts, connections, duration: warmup });
  const sums = Object.fromEntries(targets.map((t) => [t.name, { requests: 0, duration: 0, cpu: 0, non2xx: 0, errors: 0 }]));
  const each = Math.max(1, seconds / ROUNDS);
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of r % 2 ? [...targets].reverse() : targets) {
      const before = cpuMs();
      const res = await cannon({ ...t.opts, connections, duration: each });
      const s = sums[t.name];
      s.requests += res.requests.total;
      s.duration += res.duration || each;
      s.cpu += before === null ? 0 : cpuMs() - before;
      s.non2xx += res.non2xx;
      s.errors += res.errors + res.timeouts;
    }
  }
  return Object.fromEntries(
    Object.entries(sums).map(([name, s]) => [
      name,
      { rps: round(s.requests / s.duration, 1), cpu_us: s.requests ? Math.round((s.cpu * 1000) / s.requests) : null, non2xx: s.non2xx, errors: s.errors },
    ]),
  );
}

/** One request at a time, timed exactly (autocannon's histogram has whole-millisecond buckets): p50 and mean per target, rounds interleaved. */
async function latency(targets, { seconds, warmup }) {
  const once = async (t) => {
    const start = performance.now();
    const res = await fetch(t.url, { method: "POST", headers: t.headers, body: t.body });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${t.name} answered ${res.status}`);
    return performance.now() - start;
  };
  for (const t of targets) {
    const until = performance.now() + warmup * 1000;
    for (let i = 0; i < 20 || performance.now() < until; i++) await once(t);
  }
  const samples = Object.fromEntries(targets.map((t) => [t.name, []]));
  const each = (Math.max(1, seconds / ROUNDS) * 1000) / 1;
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of r % 2 ? [...targets].reverse() : targets) {
      const until = performance.now() + each;
      while (performance.now() < until) samples[t.name].push(await once(t));
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, xs]) => [
      name,
      { requests: xs.length, p50_ms: round(median(xs), 3), mean_ms: round(xs.reduce((a, b) => a + b, 0) / xs.length, 3) },
    ]),
  );
}

/**
 * Runs every measurement of issue 20 and returns its figures. `ctx`: { mf, workerName, api, adminToken, ensureTenant,
 * issueKey, proxyBase, refBase, simBase, upstreamKey, createBody, seconds, warmup, connections, cpuMs, finishTask }.
 */
export async function benchFlat(ctx) {
  const json = { "content-type": "application/json" };
  const { key } = await ctx.issueKey(ctx.api, ctx.adminToken, "bench", { kind: "secret", name: "bench-chat" });
  const proxyChat = { url: `${ctx.proxyBase}/v1/chat/completions`, headers: { ...json, authorization: `Bearer ${key}` }, body: CHAT };
  const refChat = { url: `${ctx.refBase}/v1/chat/completions`, headers: { ...json, authorization: `Bearer ${ctx.upstreamKey}` }, body: CHAT };
  const directChat = { url: `${ctx.simBase}/v1/chat/completions`, headers: { ...json, authorization: `Bearer ${ctx.upstreamKey}` }, body: CHAT };
  console.log(`\nissue 20: ${ROUNDS} interleaved rounds per figure`);
  const chat1 = await latency(
    [
      { name: "proxy", ...proxyChat },
      { name: "reference", ...refChat },
      { name: "direct", ...directChat },
    ],
    ctx,
  );
  const chatN = await interleaved(
    [
      { name: "proxy", opts: { url: proxyChat.url, method: "POST", headers: proxyChat.headers, body: CHAT } },
      { name: "reference", opts: { url: refChat.url, method: "POST", headers: refChat.headers, body: CHAT } },
    ],
    ctx,
  );

  // Two tenants alike but for their history: one empty, one with SEED_TASKS finished tasks (and their ledger) in its object.
  const ns = await ctx.mf.getDurableObjectNamespace("LEDGER", ctx.workerName);
  const tenants = {};
  for (const id of ["bench-empty", "bench-100k"]) {
    await ctx.ensureTenant(ctx.api, ctx.adminToken, {
      id,
      name: id,
      budget: { limit_usd: 1_000_000_000, period: "total" },
      limits: { max_concurrent_tasks: null, requests_per_minute: null },
    });
    const issued = await ctx.issueKey(ctx.api, ctx.adminToken, id, { kind: "secret", name: "bench" });
    tenants[id] = { key: issued.key, keyId: issued.id, stub: ns.get(ns.idFromName(id)) };
  }
  const seedStart = performance.now();
  await tenants["bench-100k"].stub.bench({ op: "seed", tasks: SEED_TASKS, tenantId: "bench-100k", keyId: tenants["bench-100k"].keyId });
  console.log(`  seeded ${SEED_TASKS} stored tasks (with their reservations and entries) in ${Math.round(performance.now() - seedStart)} ms`);
  const createOpts = (id) => ({
    url: `${ctx.proxyBase}/api/v1/hailuo/text_to_video`,
    method: "POST",
    headers: { ...json, authorization: `Bearer ${tenants[id].key}` },
    body: ctx.createBody,
  });
  const create1 = await latency(
    ["bench-empty", "bench-100k"].map((id) => ({ name: id, url: createOpts(id).url, headers: createOpts(id).headers, body: ctx.createBody })),
    ctx,
  );
  const createN = await interleaved(
    ["bench-empty", "bench-100k"].map((id) => ({ name: id, opts: createOpts(id) })),
    ctx,
  );
  const alarm = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const id of r % 2 ? ["bench-100k", "bench-empty"] : ["bench-empty", "bench-100k"]) {
      const before = ctx.cpuMs();
      await tenants[id].stub.bench({ op: "alarms", times: ALARMS });
      alarm[id] = (alarm[id] ?? 0) + (before === null ? 0 : ctx.cpuMs() - before);
    }
  }
  const alarmUs = Object.fromEntries(Object.entries(alarm).map(([id, ms]) => [id, Math.round((ms * 1000) / (ALARMS * ROUNDS))]));

  // Rows per video task, counted in a fresh tenant's object after its first task (which starts tracking its budget).
  await ctx.ensureTenant(ctx.api, ctx.adminToken, { id: "bench-rows", name: "bench-rows", budget: { limit_usd: 1_000, period: "month" } });
  const rowsKey = (await ctx.issueKey(ctx.api, ctx.adminToken, "bench-rows", { kind: "secret", name: "bench" })).key;
  const rowsStub = ns.get(ns.idFromName("bench-rows"));
  await ctx.finishTask(rowsKey);
  await rowsStub.bench({ op: "countRows" });
  const perTask = [];
  for (let i = 0; i < ROW_TASKS; i++) {
    const before = (await rowsStub.bench({ op: "rows" })).total;
    await ctx.finishTask(rowsKey, { archived: true });
    const after = await rowsStub.bench({ op: "rows" });
    perTask.push({ toSettle: after.completions[after.completions.length - 1] - before, life: after.total - before });
  }
  const rows = {
    tasks: ROW_TASKS,
    create_to_settle: Math.max(...perTask.map((t) => t.toSettle)),
    whole_life_with_archive_copy: Math.max(...perTask.map((t) => t.life)),
  };

  return {
    rounds: ROUNDS,
    seeded_tasks: SEED_TASKS,
    chat_1conn: chat1,
    chat_many: { connections: ctx.connections, ...chatN },
    create_1conn: create1,
    create_many: { connections: ctx.connections, ...createN },
    alarm_cpu_us: alarmUs,
    rows_per_video_task: rows,
    goals: {
      chat_many_rps_vs_reference: { value: ratio(chatN.proxy.rps, chatN.reference.rps), goal: "≥ 1.0" },
      chat_1conn_p50_vs_reference: { value: ratio(chat1.proxy.p50_ms, chat1.reference.p50_ms), goal: "≤ 1.2" },
      create_many_cpu_100k_vs_empty: { value: ratio(createN["bench-100k"].cpu_us, createN["bench-empty"].cpu_us), goal: "≤ 1.1" },
      create_1conn_p50_100k_vs_empty: { value: ratio(create1["bench-100k"].p50_ms, create1["bench-empty"].p50_ms), goal: "≤ 1.1" },
      alarm_cpu_100k_vs_empty: { value: ratio(alarmUs["bench-100k"], alarmUs["bench-empty"]), goal: "≤ 1.1" },
      rows_per_video_task: { value: rows.create_to_settle, goal: "≤ 20" },
    },
  };
}

/** The figures as the README shows them. */
export function printFlat(f) {
  const line = (cells) => console.log(`| ${cells.join(" | ")} |`);
  console.log(`\nissue 20 (${f.rounds} interleaved rounds; Portkey is not run by this bench):\n`);
  line(["", "proxy", "reference", "direct", "proxy ÷ reference"]);
  line(["---", "---:", "---:", "---:", "---:"]);
  const c1 = f.chat_1conn;
  line(["chat, 1 connection, p50 ms", c1.proxy.p50_ms, c1.reference.p50_ms, c1.direct.p50_ms, ratio(c1.proxy.p50_ms, c1.reference.p50_ms)]);
  line(["chat, 1 connection, mean ms", c1.proxy.mean_ms, c1.reference.mean_ms, c1.direct.mean_ms, ratio(c1.proxy.mean_ms, c1.reference.mean_ms)]);
  const cn = f.chat_many;
  line([`chat, ${cn.connections} connections, req/s`, cn.proxy.rps, cn.reference.rps, "", ratio(cn.proxy.rps, cn.reference.rps)]);
  line([`workerd CPU per chat at ${cn.connections} connections, µs`, cn.proxy.cpu_us, cn.reference.cpu_us, "", ratio(cn.proxy.cpu_us, cn.reference.cpu_us)]);
  console.log("");
  line(["", "0 stored tasks", `${f.seeded_tasks.toLocaleString("en")} stored tasks`, "stored ÷ 0"]);
  line(["---", "---:", "---:", "---:"]);
  const e1 = f.create_1conn;
  line(["create, 1 connection, p50 ms", e1["bench-empty"].p50_ms, e1["bench-100k"].p50_ms, ratio(e1["bench-100k"].p50_ms, e1["bench-empty"].p50_ms)]);
  const en = f.create_many;
  line([`create, ${en.connections} connections, req/s`, en["bench-empty"].rps, en["bench-100k"].rps, ratio(en["bench-100k"].rps, en["bench-empty"].rps)]);
  line([
    `workerd CPU per create at ${en.connections} connections, µs`,
    en["bench-empty"].cpu_us,
    en["bench-100k"].cpu_us,
    ratio(en["bench-100k"].cpu_us, en["bench-empty"].cpu_us),
  ]);
  line([
    "workerd CPU per alarm, µs",
    f.alarm_cpu_us["bench-empty"],
    f.alarm_cpu_us["bench-100k"],
    ratio(f.alarm_cpu_us["bench-100k"], f.alarm_cpu_us["bench-empty"]),
  ]);
  const r = f.rows_per_video_task;
  console.log(
    `\nSQLite rows written per video task (most of ${r.tasks}): ${r.create_to_settle} from its create to its settlement, ${r.whole_life_with_archive_copy} over its whole life (the video's copy to R2 included)`,
  );
  const failed = [...Object.entries(f.chat_many), ...Object.entries(f.create_many)].filter(([, v]) => typeof v === "object" && v.non2xx + v.errors > 0);
  if (failed.length) console.log(`warning: failures in ${failed.map(([k]) => k).join(", ")}`);
  console.log("\ngoals (issue 20):");
  for (const [name, g] of Object.entries(f.goals)) console.log(`  ${name.padEnd(36)} ${String(g.value).padStart(6)}   goal ${g.goal}`);
}
