// The misbehaviours `npm run hostile` (scripts/hostile.mjs) runs, one after another. Each returns what the
// proxy answered (`status`), what it did in words (`outcome`), and, when it broke a rule of SPEC §13,
// `violation`; chats that RunAPI worked on report `unbilledMicros`, archive cases `internalBytes`.

import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;
const usd = (micros) => `$${(micros / 1e6).toFixed(6)}`;

/** A tenant with a secret key and a budget far from any limit. */
export async function tenant(ctx, name) {
  const id = `hostile-${name}-${randomUUID().slice(0, 8)}`;
  const res = await ctx.api.post("/admin/v1/tenants", ctx.adminToken, {
    id,
    name,
    budget: { limit_usd: 1000, period: "day" },
    // No rate or concurrency limit (a new tenant has the defaults): the run's streams and creates are many.
    limits: { max_concurrent_tasks: null, requests_per_minute: null },
  });
  if (res.status !== 201) throw new Error(`tenant: ${res.status} ${res.text}`);
  const key = await ctx.api.post(`/admin/v1/tenants/${id}/keys`, ctx.adminToken, { kind: "secret" });
  return { id, key: key.json.key };
}

/** Reads a response body, at most `max` bytes (a proxy that relayed a flood must not flood this process). */
async function bodyOf(res, max = 64 * MiB) {
  const reader = res.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      break;
    }
    if (size < MiB) chunks.push(value);
  }
  return { size, text: Buffer.concat(chunks).toString("utf8") };
}

/** A chat of one tenant to the proxy whose message carries `marker`; then how its reservation was closed. */
async function chat(ctx, marker, { stream = false } = {}) {
  const t = await tenant(ctx, "chat");
  const res = await fetch(`${ctx.base}/v1/chat/completions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${t.key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", max_tokens: 1000, stream, messages: [{ role: "user", content: `${randomUUID()} ${marker}` }] }),
  });
  const body = await bodyOf(res);
  const entries = (await ctx.api.get(`/admin/v1/tenants/${t.id}/ledger`, ctx.adminToken)).json.entries;
  const reserve = entries.find((e) => e.type === "reserve");
  const close = entries.find((e) => e.type === "settle" || e.type === "release");
  const charged = close?.type === "settle" ? close.amount_micros : 0;
  return { res, body, reserved: reserve?.amount_micros ?? 0, charged, closed: close?.type ?? "open" };
}

/** A chat case where RunAPI took the request: the proxy must answer within limits and charge the reservation. */
function workedChat(name, marker, opts = {}) {
  return {
    name,
    async run(ctx) {
      const c = await chat(ctx, marker, opts);
      const basis = c.res.headers.get("x-charge-basis");
      const ended = opts.stream ? (c.body.text.includes('"code":"upstream_error"') ? "error event" : "no error event") : "";
      const unbilledMicros = Math.max(0, c.reserved - c.charged);
      const outcome = `${opts.stream ? `relayed ${c.body.size} B, then the ${ended}` : `${c.body.size} B error`}; ${c.closed} ${usd(c.charged)} of ${usd(c.reserved)} reserved${basis ? ` (X-Charge-Basis: ${basis})` : ""}`;
      const violation =
        c.res.status === 500
          ? "a 500"
          : c.body.size > 2 * MiB
            ? `relayed ${c.body.size} bytes`
            : unbilledMicros
              ? `${usd(unbilledMicros)} of RunAPI's work not charged`
              : null;
      return { status: c.res.status, outcome, violation, unbilledMicros };
    },
  };
}

/** A task whose status reads show `videoUrl`: completed, its archive tried; then what its video links serve. */
function archiveCase(name, videoUrl) {
  return {
    name,
    async run(ctx) {
      const url = videoUrl(ctx);
      const hitsBefore = ctx.internal.seen.requests;
      const t = await tenant(ctx, "archive");
      const created = await ctx.api.post("/api/v1/hailuo/text_to_video", t.key, {
        model: "hailuo-02-text-to-video-standard",
        prompt: `${randomUUID()} [hostile:video-url=${url}]`,
        duration_seconds: 6,
      });
      if (created.status !== 200) return { status: created.status, outcome: created.text.slice(0, 120), violation: "the create failed" };
      let task;
      for (let i = 0; i < 60; i++) {
        task = (await ctx.api.get(`/api/v1/tasks/${created.json.id}`, t.key)).json;
        if (task.status === "completed") break;
        await sleep(250);
      }
      await sleep(1_500); // the archive's attempt
      task = (await ctx.api.get(`/api/v1/tasks/${created.json.id}`, t.key)).json;
      const link = task.videos?.[0]?.url ?? "";
      const served = link.startsWith(`${ctx.base}/media/`) || link.startsWith(`${ctx.base}/videos/`) ? await (await fetch(link)).text() : "";
      const internalBytes = served.includes(ctx.secret) ? served.length : 0;
      const hits = ctx.internal.seen.requests - hitsBefore;
      const outcome = `task ${task.status}; ${link.startsWith(ctx.base) ? "archived link served" : "not archived (keeps RunAPI's URL)"}; internal service called ${hits}×`;
      return { status: created.status, outcome, internalBytes, violation: internalBytes || hits ? "internal bytes fetched or served" : null };
    },
  };
}

/** Opens an event stream and waits for its headers (and first bytes when accepted). */
async function openStream(ctx, key, taskId, abort) {
  const res = await fetch(`${ctx.base}/api/v1/tasks/${taskId}/events`, { headers: { Authorization: `Bearer ${key}` }, signal: abort.signal });
  if (res.status === 200) await res.body.getReader().read();
  else await res.body?.cancel();
  return res.status;
}

/** A task that stays pending at the proxy (RunAPI never calls back; the first poll is 90 s away). */
async function pendingTask(ctx, key) {
  const res = await ctx.api.post("/api/v1/hailuo/text_to_video", key, {
    model: "hailuo-02-text-to-video-standard",
    prompt: `${randomUUID()} [sim:no-callback]`,
    duration_seconds: 6,
  });
  return res.json.id;
}

/** Every misbehaviour, in the order run. */
export const CASES = [
  workedChat("chat stream: 20 MB, no blank line", "[hostile:sse-flood=20]", { stream: true }),
  workedChat("chat stream: 200 MB, no blank line", "[hostile:sse-flood=200]", { stream: true }),
  workedChat("chat answer: 200 MB", "[hostile:chat-flood=200]"),
  workedChat("chat answer: 500 MB", "[hostile:chat-flood=500]"),
  workedChat("chat: no headers within CHAT_TIMEOUT_MS", "[hostile:hang]"),
  workedChat("chat: connection reset mid-answer", "[hostile:reset]"),
  workedChat("chat: answer cut short, not JSON", "[hostile:truncated]"),
  {
    name: "create answer: 300 MB",
    async run(ctx) {
      const t = await tenant(ctx, "create");
      const res = await ctx.api.post("/api/v1/hailuo/text_to_video", t.key, {
        model: "hailuo-02-text-to-video-standard",
        prompt: `${randomUUID()} [hostile:create-flood=300]`,
        duration_seconds: 6,
      });
      // RunAPI said yes to something unreadable: outcome unknown, the money held while the proxy finds out (SPEC §13).
      const outcome =
        res.status === 202
          ? `read no further than the limit; task ${res.json?.submission === "unknown" ? "held, outcome unknown" : res.json?.status}, $${res.json?.estimated_cost_usd} reserved`
          : `${res.json?.error?.code}: ${res.json?.error?.message}`;
      return { status: res.status, outcome, violation: res.status === 500 ? "a 500" : res.status === 200 ? "taken as created" : null };
    },
  },
  archiveCase("archive: video URL on loopback", (ctx) => ctx.internal.url),
  archiveCase("archive: 302 on RunAPI's origin to loopback", (ctx) => `${ctx.upstreamBase}/__hostile/redirect?to=${encodeURIComponent(ctx.internal.url)}`),
  {
    name: "2 000 event streams on one task",
    async run(ctx) {
      const t = await tenant(ctx, "streams");
      const id = await pendingTask(ctx, t.key);
      // In waves of 250 at once: a listening socket's backlog on this machine is not what this measures.
      const aborts = [];
      const statuses = [];
      for (let wave = 0; wave < 8; wave++) {
        const batch = Array.from({ length: 250 }, () => new AbortController());
        aborts.push(...batch);
        statuses.push(...(await Promise.all(batch.map((abort) => openStream(ctx, t.key, id, abort).catch(() => 0)))));
      }
      for (const abort of aborts) abort.abort();
      const count = (s) => statuses.filter((x) => x === s).length;
      const outcome = `${count(200)} accepted, ${count(429)} refused 429${count(0) ? `, ${count(0)} failed` : ""}`;
      return { status: "200/429", outcome, violation: count(200) > 5 ? `${count(200)} streams open on one task` : null };
    },
  },
  {
    name: "200 event streams abandoned by their clients",
    async run(ctx) {
      const t = await tenant(ctx, "abandoned");
      const abort = new AbortController();
      setMaxListeners(300, abort.signal);
      let opened = 0;
      for (let i = 0; i < 40; i++) {
        const id = await pendingTask(ctx, t.key);
        const statuses = await Promise.all(Array.from({ length: 5 }, () => openStream(ctx, t.key, id, abort)));
        opened += statuses.filter((s) => s === 200).length;
      }
      const probe = await pendingTask(ctx, t.key);
      const full = await openStream(ctx, t.key, probe, new AbortController());
      abort.abort(); // every client goes away
      const gone = Date.now();
      for (;;) {
        const status = await openStream(ctx, t.key, await pendingTask(ctx, t.key), new AbortController());
        const after = (Date.now() - gone) / 1000;
        if (status === 200)
          return { status: full, outcome: `${opened} open, the 201st refused ${full}; places free again ${after.toFixed(0)} s after the clients left` };
        if (after > 90) return { status: full, outcome: `${opened} open; still full after 90 s`, violation: "abandoned streams not released within a minute" };
        await sleep(2_000);
      }
    },
  },
  {
    name: "Idempotency-Key `x|k1` of end user `u`",
    async run(ctx) {
      const t = await tenant(ctx, "scopes");
      const token = async (sub) => (await ctx.api.post("/api/v1/end_user_tokens", t.key, { sub })).json.token;
      const body = { model: "hailuo-02-text-to-video-standard", prompt: randomUUID(), duration_seconds: 6 };
      const send = async (tok, idem) =>
        (
          await fetch(`${ctx.base}/api/v1/hailuo/text_to_video`, {
            method: "POST",
            headers: { Authorization: `Bearer ${tok}`, "Content-Type": "application/json", "Idempotency-Key": idem },
            body: JSON.stringify(body),
          })
        ).json();
      const theirs = await send(await token("u|x"), "k1");
      const mine = await send(await token("u"), "x|k1");
      const same = theirs.id === mine.id;
      return { status: 200, outcome: same ? "replayed end user `u|x`'s task" : "a task of its own (no replay)", violation: same ? "scopes collide" : null };
    },
  },
  {
    name: "webhook_url on IPv6 forms of 127.0.0.1",
    async run(ctx) {
      const t = await tenant(ctx, "ipv6");
      const urls = ["https://[::7f00:1]/h", "https://[2002:7f00:1::]/h", "https://[::ffff:0:7f00:1]/h", "https://[2001::]/h", "https://[64:ff9b::7f00:1]/h"];
      const statuses = [];
      for (const url of urls) statuses.push((await ctx.api.patch(`/admin/v1/tenants/${t.id}`, ctx.adminToken, { webhook_url: url })).status);
      const accepted = statuses.filter((s) => s !== 400).length;
      return {
        status: [...new Set(statuses)].join("/"),
        outcome: `${urls.length - accepted} of ${urls.length} refused 400`,
        violation: accepted ? `${accepted} accepted` : null,
      };
    },
  },
];
