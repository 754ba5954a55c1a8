// Chat through the proxy vs. straight to the simulator (issue 9), one request at a time so the figures are
// the latency the proxy adds, not CPU contention. Called from scripts/bench.mjs; runs alone too:
//   node bench/chat.mjs <proxyBase> <simBase> <tenantKey> <upstreamKey>
// Per measurement: `seconds` when the caller gives it (scripts/bench.mjs passes BENCH_SECONDS), else
// BENCH_CHAT_REQUESTS requests (default 200); each after at least 20 warm-up requests.

import { performance } from "node:perf_hooks";

const MESSAGES = [
  { role: "system", content: "You are a terse assistant." },
  { role: "user", content: "bench: name three colours of the sea at dawn, please, in one sentence" },
];
const PLAIN = { model: "gpt-4o-mini", messages: MESSAGES, max_tokens: 256 };
const STREAMED = { ...PLAIN, stream: true };

const round = (n, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { mean_ms: round(sorted.reduce((s, x) => s + x, 0) / sorted.length), p50_ms: round(pct(sorted, 50)), p99_ms: round(pct(sorted, 99)) };
}

/** One request: time to the first body byte and to the end of the body. */
async function once(url, key, body) {
  const start = performance.now();
  const res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  const reader = res.body.getReader();
  let first = null;
  for (;;) {
    const { done } = await reader.read();
    if (first === null) first = performance.now() - start;
    if (done) break;
  }
  return { ttfb: first, total: performance.now() - start };
}

/** Warm-up, then measure: `n` requests, or as many as fit in `seconds` when that is given. */
async function series(url, key, body, { n, seconds, warmup }) {
  const warmUntil = performance.now() + (warmup ?? 0) * 1000;
  for (let i = 0; i < 20 || performance.now() < warmUntil; i++) await once(url, key, body);
  const ttfb = [];
  const total = [];
  const until = seconds ? performance.now() + seconds * 1000 : Infinity;
  for (let i = 0; seconds ? performance.now() < until : i < n; i++) {
    const r = await once(url, key, body);
    ttfb.push(r.ttfb);
    total.push(r.total);
  }
  return { ttfb: stats(ttfb), total: stats(total), requests: total.length };
}

/** One figure, flat (the bench prints rows as a grid): proxy and direct, their ratios and the added time. */
function row(name, proxy, direct, requests) {
  return {
    name,
    requests,
    proxy_mean_ms: proxy.mean_ms,
    direct_mean_ms: direct.mean_ms,
    mean_ratio: round(proxy.mean_ms / direct.mean_ms),
    proxy_p50_ms: proxy.p50_ms,
    direct_p50_ms: direct.p50_ms,
    p50_ratio: round(proxy.p50_ms / direct.p50_ms),
    proxy_p99_ms: proxy.p99_ms,
    direct_p99_ms: direct.p99_ms,
    p99_ratio: round(proxy.p99_ms / direct.p99_ms),
    added_mean_ms: round(proxy.mean_ms - direct.mean_ms),
  };
}

/**
 * Measures chat plain (total) and streamed (time to first byte and total) through the proxy and directly
 * against the simulator, one request at a time; returns `{rows}`, one flat row per figure with proxy/direct ratios.
 * Called as `benchChat({proxyBase, simBase, key, upstreamKey, seconds?, warmup?, requests?})` (scripts/bench.mjs)
 * or `benchChat(proxyBase, simBase, tenantKey, upstreamKey)`.
 */
export async function benchChat(...args) {
  const o = typeof args[0] === "object" ? args[0] : { proxyBase: args[0], simBase: args[1], key: args[2], upstreamKey: args[3], ...(args[4] ?? {}) };
  const n = o.requests ?? Number(process.env.BENCH_CHAT_REQUESTS ?? 200);
  const opts = { n, seconds: o.seconds, warmup: o.warmup };
  const viaProxy = `${o.proxyBase}/v1/chat/completions`;
  const direct = `${o.simBase}/v1/chat/completions`;
  const plainP = await series(viaProxy, o.key, PLAIN, opts);
  const plainD = await series(direct, o.upstreamKey, PLAIN, opts);
  const streamP = await series(viaProxy, o.key, STREAMED, opts);
  const streamD = await series(direct, o.upstreamKey, STREAMED, opts);
  const rows = [
    row("chat plain total", plainP.total, plainD.total, plainP.requests),
    row("chat stream first byte", streamP.ttfb, streamD.ttfb, streamP.requests),
    row("chat stream total", streamP.total, streamD.total, streamP.requests),
  ];
  return { connections: 1, rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [proxyBase, simBase, tenantKey, upstreamKey] = process.argv.slice(2);
  if (!upstreamKey) {
    console.error("usage: node bench/chat.mjs <proxyBase> <simBase> <tenantKey> <upstreamKey>");
    process.exit(2);
  }
  benchChat(proxyBase, simBase, tenantKey, upstreamKey)
    .then(({ rows }) => console.table(rows))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
