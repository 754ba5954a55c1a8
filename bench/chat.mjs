// Chat through the proxy vs. straight to the simulator (issue 9), one request at a time so the figures are
// the latency the proxy adds, not CPU contention. Called from scripts/bench.mjs; runs alone too:
//   node bench/chat.mjs <proxyBase> <simBase> <tenantKey> <upstreamKey>
// Env: BENCH_CHAT_REQUESTS (default 200 per measurement), after 20 warm-up requests.

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

async function series(url, key, body, n) {
  for (let i = 0; i < 20; i++) await once(url, key, body);
  const ttfb = [];
  const total = [];
  for (let i = 0; i < n; i++) {
    const r = await once(url, key, body);
    ttfb.push(r.ttfb);
    total.push(r.total);
  }
  return { ttfb: stats(ttfb), total: stats(total) };
}

function row(name, proxy, direct) {
  return {
    name,
    proxy,
    direct,
    mean_ratio: round(proxy.mean_ms / direct.mean_ms),
    p50_ratio: round(proxy.p50_ms / direct.p50_ms),
    p99_ratio: round(proxy.p99_ms / direct.p99_ms),
    added_mean_ms: round(proxy.mean_ms - direct.mean_ms),
  };
}

/**
 * Measures chat plain (total) and streamed (time to first byte and total) through the proxy and directly
 * against the simulator; returns one row per figure with proxy/direct ratios.
 */
export async function benchChat(proxyBase, simBase, tenantKey, upstreamKey, opts = {}) {
  const n = opts.requests ?? Number(process.env.BENCH_CHAT_REQUESTS ?? 200);
  const viaProxy = `${proxyBase}/v1/chat/completions`;
  const direct = `${simBase}/v1/chat/completions`;
  const plainP = await series(viaProxy, tenantKey, PLAIN, n);
  const plainD = await series(direct, upstreamKey, PLAIN, n);
  const streamP = await series(viaProxy, tenantKey, STREAMED, n);
  const streamD = await series(direct, upstreamKey, STREAMED, n);
  const rows = [
    row("chat plain total", plainP.total, plainD.total),
    row("chat stream first byte", streamP.ttfb, streamD.ttfb),
    row("chat stream total", streamP.total, streamD.total),
  ];
  console.log(`\nchat (1 connection, ${n} requests each after 20 warm-up):`);
  for (const r of rows) {
    console.log(
      `  ${r.name.padEnd(24)} proxy mean ${r.proxy.mean_ms} ms (p50 ${r.proxy.p50_ms}, p99 ${r.proxy.p99_ms})  direct mean ${r.direct.mean_ms} ms (p50 ${r.direct.p50_ms}, p99 ${r.direct.p99_ms})  ratio ${r.mean_ratio}  +${r.added_mean_ms} ms`,
    );
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [proxyBase, simBase, tenantKey, upstreamKey] = process.argv.slice(2);
  if (!upstreamKey) {
    console.error("usage: node bench/chat.mjs <proxyBase> <simBase> <tenantKey> <upstreamKey>");
    process.exit(2);
  }
  benchChat(proxyBase, simBase, tenantKey, upstreamKey).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
