// The audit half of `npm run chaos`: waits until the proxy has reconciled, then holds what the
// client was told against what the proxy's tenants list, what its ledger says, and what the RunAPI
// simulator did; prints the table and says whether the run passed.

/** How long to wait for every task to end and every reservation to close after the burst. */
export const RECONCILE_DEADLINE_MS = 120_000;
/** A reservation still open this long after it was made is a violation (the proxy's longest create is ~8 s, its TTL 60 s). */
export const RECONCILE_WINDOW_MS = 90_000;
/** A reservation held longer than this is listed (the proxy's longest create is 3 × 1 s + 0.15 s + 5 s). */
const LONG_HOLD_MS = 20_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const micros = (usd) => Math.round(Number(usd) * 1e6);
const usd = (m) => `$${(m / 1e6).toFixed(2)}`;

export async function pagedTasks(api, token) {
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

export async function ledger(api, adminToken, tenantId) {
  const entries = [];
  let cursor;
  do {
    const res = await api.get(`/admin/v1/tenants/${tenantId}/ledger?format=json&limit=1000${cursor ? `&cursor=${cursor}` : ""}`, adminToken);
    if (res.status !== 200) throw new Error(`ledger export answered ${res.status}: ${res.text.slice(0, 200)}`);
    entries.push(...res.json.entries);
    cursor = res.json.next_cursor;
  } while (cursor);
  return entries;
}

export async function tenantUsage(api, adminToken, tenantId) {
  const res = await api.get(`/admin/v1/tenants/${tenantId}/usage`, adminToken);
  if (res.status !== 200) throw new Error(`usage answered ${res.status}: ${res.text.slice(0, 200)}`);
  const scope = res.json.budgets.find((b) => b.scope === "tenant");
  return { spent: micros(scope.spent_usd), reserved: micros(scope.reserved_usd) };
}

/** Reservations from ledger entries: per task, when reserved, the amount, and how it closed (if it did). */
export function reservations(entries) {
  const byTask = new Map();
  for (const e of entries) {
    if (!e.task_id) continue;
    if (e.type === "reserve") byTask.set(e.task_id, { task_id: e.task_id, at: Date.parse(e.at), amount: e.amount_micros, closes: [] });
    else if (e.type === "settle" || e.type === "release") byTask.get(e.task_id)?.closes.push({ type: e.type, at: Date.parse(e.at), amount: e.amount_micros });
  }
  return byTask;
}

export function countBy(items, field) {
  const out = {};
  for (const item of items) out[item[field]] = (out[item[field]] ?? 0) + 1;
  return out;
}

/**
 * Waits for reconciliation, audits and prints the report. Returns the number of violations.
 * `ctx`: {api, adminToken, simBase, tenants: {name: {id, key}}, requests (with their attempts), kill,
 * killAfter, burst, concurrency, burstEnd, restartedAt, t0, runId, debug}.
 */
export async function auditRun(ctx) {
  const { api, adminToken, simBase, tenants, requests, kill, killAfter, burst, concurrency, burstEnd, restartedAt, t0, runId, debug, capacity } = ctx;
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
    const usages = await Promise.all(Object.values(tenants).map((t) => tenantUsage(api, adminToken, t.id)));
    const open = lists.flat().filter((t) => t.status === "queued" || t.status === "pending" || t.status === "processing").length;
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
    if (task.status === "queued" || task.status === "pending" || task.status === "processing") violations.push(`task ${task.id} is still ${task.status}`);
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
    const entries = await ledger(api, adminToken, t.id);
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
    const usage = await tenantUsage(api, adminToken, t.id);
    if (usage.reserved !== 0) violations.push(`tenant ${name}: usage shows ${usd(usage.reserved)} still reserved`);
    if (usage.spent !== settleSum - adjustSum)
      violations.push(`tenant ${name}: spent ${usd(usage.spent)} but settles − adjustments = ${usd(settleSum - adjustSum)}`);
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

  // 4. RunAPI's capacity (SPEC §14): never more in flight than it allows, never a 429 for it; the queue the kill found, all run.
  const account = await (await fetch(`${simBase}/__sim/limits`)).json();
  if (account.peak_in_flight > capacity) violations.push(`RunAPI ran ${account.peak_in_flight} tasks at once; it allows ${capacity}`);
  if (account.refused > 0) violations.push(`RunAPI answered 429 for its capacity ${account.refused} times`);
  if (!(kill?.queued > 0)) violations.push(`the kill found no queue (queued: ${kill?.queued}): the run did not test one`);
  const queueName = Object.keys(tenants).find((n) => n === "queue");
  const queuedEver = queueName ? requests.filter((r) => r.tenant === queueName && r.attempts.some((a) => a.status === 202)).length : 0;
  // The queuing tenant's creates wait only for capacity; how they ended is reported. One that expired waiting is not a
  // violation: the run's TTL (60 s, so reservations close within the window) is shorter than the queue may need while
  // the main tenant's creates of unknown outcome keep their slots (RunAPI may be running them); it was released unpaid.
  const queueTasks = [];
  for (const t of allTasks.values()) {
    if (taskTenant.get(t.id) !== queueName) continue;
    const res = await api.get(`/api/v1/tasks/${t.id}`, tenants[queueName].key); // the listing leaves out error_code
    queueTasks.push(res.json ?? t);
  }
  const queueEnds = countBy(
    queueTasks.map((t) => ({ end: t.error_code ? `${t.status} (${t.error_code})` : t.status })),
    "end",
  );

  // ---- The report ----
  const outcomes = new Map();
  const firstOutcomes = new Map();
  for (const r of requests) {
    const label = (a) =>
      a.status === "conn"
        ? `conn error`
        : a.status >= 400
          ? `${a.status} ${a.error}`
          : `${a.status}${a.submission ? ` (submission ${a.submission})` : ""}${a.replayed ? " replay" : ""}`;
    const f = label(r.attempts[0]);
    firstOutcomes.set(f, (firstOutcomes.get(f) ?? 0) + 1);
    const l = label(r.attempts.at(-1));
    outcomes.set(l, (outcomes.get(l) ?? 0) + 1);
  }
  const retried = requests.filter((r) => r.attempts.length > 1).length;
  const fmt = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}: ${v}`)
      .join(", ");
  const rows = [
    [
      "burst",
      `${burst} creates, ${concurrency} concurrent (${Object.entries(countBy(requests, "kind"))
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}; tight tenant ${requests.filter((r) => r.tenant === "tight").length})`,
    ],
    [
      "kill",
      kill
        ? `SIGKILL to group ${kill.before.map((p) => p.comm).join("+")} after ${killAfter} sent, ${kill.inFlight} in flight; ${kill.after.length} left in group; back in ${(kill.downMs / 1000).toFixed(1)} s`
        : "did not happen",
    ],
    ["first answers", fmt(firstOutcomes)],
    ["final answers", `${fmt(outcomes)} (${retried} requests retried)`],
    ["tasks told", `${told.size} (${queuedEver} answered 202 queued or held by the queuing tenant)`],
    ["queuing tenant", `${queueTasks.length} tasks: ${fmt(new Map(Object.entries(queueEnds)))}`],
    [
      "RunAPI's capacity",
      `${capacity} tasks in flight; peak ${account.peak_in_flight}; 429s for capacity ${account.refused}; queue at the kill ${kill?.queued ?? "?"} tasks`,
    ],
    [
      "tasks found",
      `${found} of ${told.size} (tenants list ${allTasks.size} tasks: ${fmt(new Map(Object.entries(countBy([...allTasks.values()], "status"))))}; completed but never told: ${untoldCompleted})`,
    ],
    ["upstream tasks", `${upstream.length} (${fmt(new Map(Object.entries(countBy(upstream, "status"))))})`],
    [
      "charged vs RunAPI's work",
      `${usd(settledMicros)} settled vs ${usd(workMicros)} for ${upstreamCompleted} completed upstream tasks; ${uncharged} uncharged`,
    ],
    ["open reservations", `${openCount} (oldest ${(maxOpenAgeMs / 1000).toFixed(1)} s; window ${RECONCILE_WINDOW_MS / 1000} s)`],
    [
      "longest-held reservation",
      `${(longestHeldMs / 1000).toFixed(1)} s; held > ${LONG_HOLD_MS / 1000} s: ${longHeld.length}${longHeld.length ? ` (${fmt(longHeldByKind)})` : ""}`,
    ],
    [
      "time to reconcile",
      settledAt
        ? `${((settledAt - burstEnd) / 1000).toFixed(1)} s after the burst (${((settledAt - restartedAt) / 1000).toFixed(1)} s after the restart)`
        : "not within the deadline",
    ],
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
  return violations.length;
}
