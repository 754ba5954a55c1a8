import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  advanceClock,
  advanceUpstream,
  api,
  deliverCallbacks,
  eventually,
  getTask,
  json,
  ledgerObject,
  me,
  nonce,
  proxy,
  recorded,
  runAlarm,
  sim,
  simRequests,
  t2v,
  tenantWithKey,
  upstreamIdOf,
  webhookReceiver,
  streamReader,
} from "./helpers";

const HOOK = "https://hooks.tenant.test/runapi";
const receiver = (statuses?: number[]) => webhookReceiver(HOOK, statuses);

async function createTask(key: string, prompt: string, extra: Record<string, unknown> = {}) {
  const res = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(prompt, extra) });
  expect(res.status).toBe(200);
  return (await json(res)).id as string;
}

/** The status GETs the simulator has received for a task. */
async function statusReads(id: string): Promise<number> {
  const upstreamId = await upstreamIdOf(id);
  const res = await sim(`/__sim/requests?path=${encodeURIComponent(`/api/v1/hailuo/text_to_video/${upstreamId}`)}`);
  return ((await res.json()) as { requests: unknown[] }).requests.length;
}

afterEach(() => vi.restoreAllMocks());

describe("task lifecycle", () => {
  it("callback → confirmed completed → settled → signed webhook delivered", async () => {
    const received = receiver();
    const { key, webhookSecret } = await tenantWithKey({ webhook_url: HOOK });
    const id = await createTask(key, nonce());
    const upstreamId = await advanceUpstream(id, { status: "completed" });
    const [cb] = await deliverCallbacks(upstreamId);
    expect(cb!.status).toBe(200);

    const task = await eventually(async () => {
      const t = await getTask(key, id);
      expect(t.status).toBe("completed");
      expect(t.webhook_deliveries).toHaveLength(1);
      return t;
    });
    expect(task.videos[0].url).toMatch(/^https:\/\//);
    expect(task.charged_usd).toBe(0.3);
    const budgets = (await me(key)).budgets;
    expect(budgets.tenant).toMatchObject({ spent_usd: 0.3, reserved_usd: 0 });

    expect(received).toHaveLength(1);
    const payload = new Webhook(webhookSecret).verify(received[0]!.body, received[0]!.headers) as any;
    expect(payload).toMatchObject({ id, task_id: id, status: "completed", charged_usd: 0.3, videos: [{ url: task.videos[0].url }] });
    expect(received[0]!.headers["webhook-id"]).toBe(`msg_${id}`);
    expect(task.webhook_deliveries[0]).toMatchObject({ attempt: 1, status: 200 });
  });

  it("charges the upstream's reported cost when there is one", async () => {
    const { key } = await tenantWithKey();
    const id = await createTask(key, `${nonce()} [sim:cost=12.5]`);
    await deliverCallbacks(await advanceUpstream(id, { status: "completed", cost_cents: 12.5 }));
    await eventually(async () => expect((await getTask(key, id)).charged_usd).toBe(0.125));
    expect((await me(key)).budgets.tenant).toMatchObject({ spent_usd: 0.125, reserved_usd: 0 });
  });

  it("polls by alarm when no callback arrives ([sim:no-callback]), not before TASK_POLL_AFTER_SECONDS", async () => {
    const { key, tenantId } = await tenantWithKey();
    const id = await createTask(key, `${nonce()} [sim:no-callback]`);
    await recorded(tenantId, id);
    const upstreamId = await advanceUpstream(id, { status: "completed" });
    expect(await deliverCallbacks(upstreamId)).toHaveLength(0);
    await advanceClock(tenantId, 60_000);
    expect((await getTask(key, id)).status).toBe("pending");
    expect(await statusReads(id)).toBe(0);
    await advanceClock(tenantId, 31_000); // 91 s after the create
    expect(await getTask(key, id)).toMatchObject({ status: "completed", charged_usd: 0.3 });
    expect(await statusReads(id)).toBe(1);
  });

  it("a transient upstream error only delays the next poll", async () => {
    const { key, tenantId } = await tenantWithKey();
    const id = await createTask(key, `${nonce()} [sim:no-callback] [sim:status-503]`);
    await recorded(tenantId, id);
    await advanceClock(tenantId, 91_000);
    expect(await statusReads(id)).toBe(1);
    expect(await getTask(key, id)).toMatchObject({ status: "pending", charged_usd: null });
    expect((await me(key)).budgets.tenant.reserved_usd).toBe(0.3);
    await advanceUpstream(id, { status: "completed" });
    await advanceClock(tenantId, 5_000); // the next poll waits TASK_POLL_INTERVAL_SECONDS (15 s)
    expect(await statusReads(id)).toBe(1);
    await advanceClock(tenantId, 11_000);
    expect(await getTask(key, id)).toMatchObject({ status: "completed", charged_usd: 0.3 });
  });

  it("RunAPI no longer knowing the task (404 on poll) fails it and releases", async () => {
    const { key, tenantId } = await tenantWithKey();
    const id = await createTask(key, `${nonce()} [sim:no-callback] [sim:status-404]`);
    await recorded(tenantId, id);
    await advanceClock(tenantId, 91_000);
    // An upstream 404 means RunAPI no longer knows the task: failed and released, never charged.
    expect(await getTask(key, id)).toMatchObject({ status: "failed", charged_usd: 0, error_code: "upstream_not_found" });
    expect((await me(key)).budgets.tenant).toMatchObject({ spent_usd: 0, reserved_usd: 0 });
  });

  it("[sim:fail]: failed, released, webhook carries the error", async () => {
    const received = receiver();
    const { key, webhookSecret } = await tenantWithKey({ webhook_url: HOOK });
    const id = await createTask(key, `${nonce()} [sim:fail]`);
    await deliverCallbacks(await advanceUpstream(id, { status: "failed" }));
    const task = await eventually(async () => {
      const t = await getTask(key, id);
      expect(t.status).toBe("failed");
      expect(t.webhook_deliveries).toHaveLength(1);
      return t;
    });
    expect(task).toMatchObject({ charged_usd: 0, error_code: "generation_failed" });
    expect(typeof task.error).toBe("string");
    // The task list says why, too: no read per failed task.
    expect((await json(await api(key, "/api/v1/tasks"))).tasks).toEqual([expect.objectContaining({ id, status: "failed", error_code: "generation_failed" })]);
    expect((await me(key)).budgets.tenant).toMatchObject({ spent_usd: 0, reserved_usd: 0 });
    const payload = new Webhook(webhookSecret).verify(received[0]!.body, received[0]!.headers) as any;
    expect(payload).toMatchObject({ id, status: "failed", error: task.error, error_code: "generation_failed" });
  });

  it("the request's callback_url wins over the tenant's webhook_url", async () => {
    const received = receiver();
    const { key } = await tenantWithKey({ webhook_url: "https://elsewhere.test/hook" });
    const id = await createTask(key, nonce(), { callback_url: `${HOOK}/per-request` });
    await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
    await eventually(async () => expect(received).toHaveLength(1));
    expect((await getTask(key, id)).webhook_deliveries[0].status).toBe(200);
  });
});

describe("callbacks are only hints", () => {
  it("a forged token, another tenant's token or an unknown task is a 404 and changes nothing", async () => {
    const { key, tenantId } = await tenantWithKey();
    const marker = nonce();
    const id = await createTask(key, marker);
    const real = new URL(JSON.parse((await simRequests(marker))[0]!.body).callback_url as string).pathname;
    const token = real.split("/").at(-1)!;
    const otherTenant = `${btoa("someone-else").replace(/=+$/, "")}.${token.split(".")[1]}`;
    for (const path of [
      `/webhooks/runapi/${id}/forged-token`,
      `/webhooks/runapi/${id}/${otherTenant}`,
      `/webhooks/runapi/${crypto.randomUUID()}/${token}`,
      `/webhooks/runapi/not-a-uuid/x`,
    ]) {
      const res = await proxy(path, { method: "POST", body: JSON.stringify({ id, status: "completed" }) });
      expect(res.status, path).toBe(404);
    }
    await runAlarm(tenantId).catch(() => false);
    expect(await statusReads(id)).toBe(0);
    expect((await getTask(key, id)).status).toBe("pending");
  });

  it("a valid-token callback claiming completion cannot complete a task RunAPI says is pending", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const id = await createTask(key, marker);
    const callbackUrl = JSON.parse((await simRequests(marker))[0]!.body).callback_url as string;
    const forged = { id, status: "completed", videos: [{ url: "https://evil.test/x.mp4" }], cost_cents: 0 };
    const res = await proxy(new URL(callbackUrl).pathname, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(forged) });
    expect(res.status).toBe(200);
    await eventually(async () => expect(await statusReads(id)).toBeGreaterThan(0));
    expect(await getTask(key, id)).toMatchObject({ status: "pending", charged_usd: null });
    expect((await getTask(key, id)).videos).toBeUndefined();
    expect((await me(key)).budgets.tenant).toMatchObject({ spent_usd: 0, reserved_usd: 0.3 });
  });

  it("duplicate and replayed callbacks charge once", async () => {
    const { key, tenantId } = await tenantWithKey();
    const id = await createTask(key, nonce());
    const upstreamId = await advanceUpstream(id, { status: "completed" });
    const res = await sim(`/__sim/outbox/take?task_id=${upstreamId}`, { method: "POST" });
    const [cb] = ((await res.json()) as { callbacks: { url: string; body: unknown }[] }).callbacks;
    const send = () => proxy(new URL(cb!.url).pathname, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(cb!.body) });
    const results = await Promise.all([send(), send(), send()]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    await eventually(async () => expect((await getTask(key, id)).status).toBe("completed"));
    expect((await send()).status).toBe(200); // replay after the end
    await runAlarm(tenantId);
    const { entries } = await ledgerObject(tenantId).entries({});
    expect(entries.filter((e) => e.type === "settle")).toHaveLength(1);
    expect((await me(key)).budgets.tenant).toMatchObject({ spent_usd: 0.3, reserved_usd: 0 });
    expect((await ledgerObject(tenantId).totalsCheck()).ok).toBe(true);
  });
});

describe("retries, expiry, live status, listing", () => {
  it("retries a webhook answered 500 after 5 s, then records the delivery", async () => {
    const received = receiver([500, 200]);
    const { key, tenantId } = await tenantWithKey({ webhook_url: HOOK });
    const id = await createTask(key, nonce());
    await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
    await eventually(async () => expect((await getTask(key, id)).webhook_deliveries).toHaveLength(1));
    await advanceClock(tenantId, 3_000);
    expect((await getTask(key, id)).webhook_deliveries).toHaveLength(1); // 5 s backoff
    await advanceClock(tenantId, 3_000);
    const deliveries = (await getTask(key, id)).webhook_deliveries;
    expect(deliveries.map((d: { status: number }) => d.status)).toEqual([500, 200]);
    await advanceClock(tenantId, 3_600_000);
    expect((await getTask(key, id)).webhook_deliveries).toHaveLength(2); // delivered: nothing more
    expect(received).toHaveLength(2);
    expect(received[0]!.headers["webhook-id"]).toBe(received[1]!.headers["webhook-id"]);
  });

  it("does not follow a redirect from the webhook receiver: it is a failed attempt, retried later", async () => {
    const received = receiver([302, 200]);
    const { key, tenantId } = await tenantWithKey({ webhook_url: HOOK });
    const id = await createTask(key, nonce());
    await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
    await eventually(async () => expect((await getTask(key, id)).webhook_deliveries).toHaveLength(1));
    await advanceClock(tenantId, 6_000);
    expect((await getTask(key, id)).webhook_deliveries.map((d: { status: number }) => d.status)).toEqual([302, 200]);
    expect(received.map((r) => r.redirect)).toEqual(["manual", "manual"]);
  });

  it("gives up on a task with no terminal state within its TTL: failed with task_expired, released", async () => {
    const { key, tenantId } = await tenantWithKey();
    const id = await createTask(key, `${nonce()} [sim:no-callback]`);
    await recorded(tenantId, id);
    await advanceClock(tenantId, 2 * 3600_000);
    const task = await getTask(key, id);
    expect(task).toMatchObject({ status: "failed", charged_usd: 0, error_code: "task_expired" });
    expect(task.error).toMatch(/no terminal state/);
    expect((await me(key)).budgets.tenant).toMatchObject({ spent_usd: 0, reserved_usd: 0 });
    // Both read paths say so: RunAPI's SDKs stop polling on `failed`.
    expect(await json(await api(key, `/api/v1/hailuo/text_to_video/${id}`))).toMatchObject({ status: "failed", error_code: "task_expired" });
  });

  it("at expiry, a task RunAPI shows completed is settled, not released", async () => {
    const { key, tenantId } = await tenantWithKey();
    const id = await createTask(key, `${nonce()} [sim:no-callback]`);
    await recorded(tenantId, id);
    await advanceUpstream(id, { status: "completed" });
    await advanceClock(tenantId, 2 * 3600_000);
    expect(await getTask(key, id)).toMatchObject({ status: "completed", charged_usd: 0.3 });
  });

  it("streams the current state, then every change, then ends", async () => {
    const { key } = await tenantWithKey();
    const id = await createTask(key, nonce());
    const res = await api(key, `/api/v1/tasks/${id}/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const stream = streamReader(res);
    await stream.until('"status":"pending"');
    const upstreamId = await advanceUpstream(id, { status: "processing" });
    await advanceUpstream(id, { status: "completed" });
    await deliverCallbacks(upstreamId);
    await stream.until('"status":"completed"');
    const text = await stream.rest();
    const statuses = [...text.matchAll(/"status":"(\w+)"/g)].map((m) => m[1]);
    expect(statuses[0]).toBe("pending");
    expect(statuses.at(-1)).toBe("completed");
  });

  it("an already finished task's stream sends its state and ends", async () => {
    const { key } = await tenantWithKey();
    const id = await createTask(key, nonce());
    await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
    await eventually(async () => expect((await getTask(key, id)).status).toBe("completed"));
    const text = await (await api(key, `/api/v1/tasks/${id}/events`)).text();
    expect(text).toContain("event: status");
    expect(text).toContain('"status":"completed"');
  });

  it("lists the caller's tasks newest first, with a status filter and cursor paging", async () => {
    const { key } = await tenantWithKey();
    const other = await tenantWithKey();
    await createTask(other.key, nonce());
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await createTask(key, nonce()));
    await deliverCallbacks(await advanceUpstream(ids[0]!, { status: "completed" }));
    await eventually(async () => expect((await getTask(key, ids[0]!)).status).toBe("completed"));

    const all = await json(await api(key, "/api/v1/tasks"));
    expect(all.tasks.map((t: { id: string }) => t.id)).toEqual([...ids].reverse());
    expect(all.tasks.filter((t: { error_code?: string }) => "error_code" in t)).toEqual([]); // none failed
    const done = await json(await api(key, "/api/v1/tasks?status=completed"));
    await eventually(async () => {
      const page = await json(await api(key, "/api/v1/tasks?status=completed"));
      expect(page.tasks.map((t: { id: string }) => t.id)).toEqual([ids[0]]);
    });
    void done;
    const page1 = await json(await api(key, "/api/v1/tasks?limit=2"));
    expect(page1.tasks).toHaveLength(2);
    const page2 = await json(await api(key, `/api/v1/tasks?limit=2&cursor=${encodeURIComponent(page1.next_cursor)}`));
    expect(page2.tasks.map((t: { id: string }) => t.id)).toEqual([ids[0]]);
    expect(page2.next_cursor).toBeNull();
    expect((await api(key, "/api/v1/tasks?status=bogus")).status).toBe(400);
    const badCursor = await api(key, "/api/v1/tasks?cursor=not-a-cursor");
    expect(badCursor.status).toBe(400);
    expect((await json(badCursor)).error.details.issues[0].field).toBe("cursor");
  });
});
