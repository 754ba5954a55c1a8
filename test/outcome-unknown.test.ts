import { runInDurableObject } from "cloudflare:test";
import { hailuoTaskInit } from "./fixtures";
import { describe, expect, it } from "vitest";
import { callbackToken } from "../src/domain/webhook-signing";
import type { CreateTaskRequest } from "../src/durable-objects/tenant";
import {
  advanceClock,
  advanceUpstream,
  api,
  deliverCallbacks,
  eventually,
  expectError,
  getTask,
  json,
  ledgerObject,
  me,
  nonce,
  recorded,
  sim,
  simRequests,
  t2v,
  tenantWithKey,
  upstreamIdOf,
} from "./helpers";

const CREATE = "/api/v1/hailuo/text_to_video";
const SIGNING_SECRET = "signing-secret-for-tests-7c1d"; // vitest.config.ts
/** vitest.config.ts: UPSTREAM_TIMEOUT_MS 1500 → the longest first create is 3 × 1.5 s + backoff + 5 s. */
const LONGEST_CREATE_MS = 9_600;

/** The creates RunAPI received for this marker, and how many tasks it made from them. */
async function upstreamCreates(marker: string) {
  const creates = (await simRequests(marker)).filter((r) => r.method === "POST");
  return { sent: creates.length, keys: new Set(creates.map((r) => r.headers["idempotency-key"])) };
}

/** What the Worker's create would write, without the Worker ever calling RunAPI (it dies first). */
async function heldCreate(tenantId: string, keyId: string, prompt: string): Promise<CreateTaskRequest> {
  const id = crypto.randomUUID();
  const token = await callbackToken(SIGNING_SECRET, tenantId, id);
  const now = Date.now();
  const init = hailuoTaskInit({ id, tenantId, keyId, prompt, callbackUrl: `https://proxy.test/webhooks/runapi/${id}/${token}`, now });
  const budgets = [{ scope: "tenant" as const, subject: tenantId, limit_micros: 100_000_000, period: "month" as const }];
  return {
    taskId: id,
    keyId,
    endUser: null,
    model: init.request.model!,
    amountMicros: 300_000,
    now,
    budgets,
    maxConcurrentTasks: null,
    requestsPerMinute: null,
    idempotency: null,
    viewer: { tenantId },
    init,
  };
}

describe("a create whose answer is lost is not a failure", () => {
  it("a timed-out create answers 202 with the task, keeps its reservation, and RunAPI's task is adopted, never doubled", async () => {
    const { key, tenantId } = await tenantWithKey();
    const marker = nonce();
    const res = await api(key, CREATE, { body: t2v(`${marker} [sim:slow]`) });
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body).toMatchObject({ id: expect.any(String), task_id: body.id, status: "pending", submission: "unknown", estimated_cost_usd: 0.3 });
    await eventually(async () => expect(await getTask(key, body.id)).toMatchObject({ status: "pending", submission: "unknown", charged_usd: null }));
    expect((await me(key)).budgets.tenant).toMatchObject({ reserved_usd: 0.3, spent_usd: 0 });
    const upstreamId = await upstreamIdOf(body.id);
    expect(upstreamId).not.toBeNull(); // RunAPI did the work

    await advanceClock(tenantId, 6_000); // the reconciliation re-sends the create with the same Idempotency-Key
    const task = await getTask(key, body.id);
    expect(task.submission).toBeUndefined();
    expect(await upstreamCreates(marker)).toEqual({ sent: 2, keys: new Set([body.id]) });
    expect(await upstreamIdOf(body.id)).toBe(upstreamId);

    await deliverCallbacks(await advanceUpstream(body.id, { status: "completed" }));
    await eventually(async () => expect(await getTask(key, body.id)).toMatchObject({ status: "completed", charged_usd: 0.3 }));
    expect((await me(key)).budgets.tenant).toMatchObject({ reserved_usd: 0, spent_usd: 0.3 });
    expect((await ledgerObject(tenantId).totalsCheck()).mismatches).toEqual([]);
  });

  it("a client retry with the same Idempotency-Key gets the same task, never a second upstream task or reservation", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const headers = { "Idempotency-Key": `retry-${marker}` };
    const first = await api(key, CREATE, { body: t2v(`${marker} [sim:slow]`), headers });
    expect(first.status).toBe(202);
    const { id } = await json(first);
    const retry = await eventually(async () => {
      const res = await api(key, CREATE, { body: t2v(`${marker} [sim:slow]`), headers });
      expect(res.status).toBe(200);
      return res;
    });
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await json(retry)).toMatchObject({ id, task_id: id, status: "pending" });
    expect((await upstreamCreates(marker)).sent).toBe(1);
    expect((await me(key)).budgets.tenant.reserved_usd).toBe(0.3);
  });

  it("RunAPI's callback for a task whose create answer was lost is confirmed with a GET and settles it", async () => {
    const { key, tenantId } = await tenantWithKey();
    const marker = nonce();
    const { id } = await json(await api(key, CREATE, { body: t2v(`${marker} [sim:slow]`) }));
    const [callback] = await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
    expect(callback!.status).toBe(200);
    await eventually(async () => expect(await getTask(key, id)).toMatchObject({ status: "completed", charged_usd: 0.3 }));
    expect((await upstreamCreates(marker)).sent).toBe(1); // learned from the callback, no re-send needed
    expect((await ledgerObject(tenantId).totalsCheck()).ok).toBe(true);
  });
});

describe("a Worker that dies mid-create loses no task and holds no money for long", () => {
  it("died before calling RunAPI: the alarm sends the create within minutes, with the task id as Idempotency-Key", async () => {
    const { key, keyId, tenantId } = await tenantWithKey();
    const marker = nonce();
    const req = await heldCreate(tenantId, keyId, `${marker} crash before the call`);
    expect((await ledgerObject(tenantId).createTask(req)).ok).toBe(true);
    expect(await upstreamIdOf(req.taskId)).toBeNull();
    await advanceClock(tenantId, LONGEST_CREATE_MS);
    expect(await upstreamCreates(marker)).toEqual({ sent: 1, keys: new Set([req.taskId]) });
    await deliverCallbacks(await advanceUpstream(req.taskId, { status: "completed" }));
    await eventually(async () => expect(await getTask(key, req.taskId)).toMatchObject({ status: "completed", charged_usd: 0.3 }));
  });

  it("died after RunAPI accepted it: the re-sent create is answered with RunAPI's existing task, which is adopted", async () => {
    const { key, keyId, tenantId } = await tenantWithKey();
    const marker = nonce();
    const req = await heldCreate(tenantId, keyId, `${marker} crash after the call`);
    expect((await ledgerObject(tenantId).createTask(req)).ok).toBe(true);
    // The Worker's call reached RunAPI; then the Worker died before recording the answer.
    const made = await sim(CREATE, {
      method: "POST",
      headers: { Authorization: "Bearer sk-runapi-UPSTREAM-test-9f2c41d7e0", "Content-Type": "application/json", "Idempotency-Key": req.taskId },
      body: JSON.stringify({ model: req.model, prompt: req.init.request.params.prompt, duration_seconds: 6, callback_url: req.init.callbackUrl }),
    });
    const upstream = (await made.json()) as { id: string };
    await advanceClock(tenantId, LONGEST_CREATE_MS);
    expect(await upstreamIdOf(req.taskId)).toBe(upstream.id);
    await advanceUpstream(req.taskId, { status: "completed" });
    await advanceClock(tenantId, 100_000); // polled: the id is RunAPI's own
    expect(await getTask(key, req.taskId)).toMatchObject({ status: "completed", charged_usd: 0.3 });
  });

  it("a re-sent create that RunAPI keeps failing (5xx) keeps its money (RunAPI may have made it) until RunAPI answers or the TTL", async () => {
    const { key, keyId, tenantId } = await tenantWithKey();
    const req = await heldCreate(tenantId, keyId, `${nonce()} [sim:500]`);
    await ledgerObject(tenantId).createTask(req);
    await advanceClock(tenantId, LONGEST_CREATE_MS);
    expect(await getTask(key, req.taskId)).toMatchObject({ status: "pending", submission: "unknown" });
    for (let i = 0; i < 6; i++) await advanceClock(tenantId, 5 * 60_000);
    // Half an hour of 5xx: not a definite "no such task", so nothing is released yet.
    expect(await getTask(key, req.taskId)).toMatchObject({ status: "pending", submission: "unknown" });
    expect((await me(key)).budgets.tenant).toMatchObject({ reserved_usd: 0.3, spent_usd: 0 });
    for (let i = 0; i < 7; i++) await advanceClock(tenantId, 5 * 60_000);
    expect(await getTask(key, req.taskId)).toMatchObject({ status: "failed", charged_usd: 0, error_code: "task_expired" });
    expect((await me(key)).budgets.tenant).toMatchObject({ reserved_usd: 0, spent_usd: 0 });
  });

  it("a re-sent create that RunAPI refuses fails the task and releases its money at once", async () => {
    const { key, keyId, tenantId } = await tenantWithKey();
    const req = await heldCreate(tenantId, keyId, `${nonce()} [sim:422]`);
    await ledgerObject(tenantId).createTask(req);
    expect((await me(key)).budgets.tenant.reserved_usd).toBe(0.3);
    await advanceClock(tenantId, LONGEST_CREATE_MS);
    expect(await getTask(key, req.taskId)).toMatchObject({ status: "failed", charged_usd: 0, error_code: "invalid_request" });
    expect((await me(key)).budgets.tenant).toMatchObject({ reserved_usd: 0, spent_usd: 0 });
  });
});

describe("the tenant object's answer to a create is lost after it held it", () => {
  /**
   * For `run`, makes the tenant object lose its answers, as a reset connection would: `createTasks` does its work
   * first (the create is held), `submitRefused` never arrives.
   */
  async function losing<T>(tenantId: string, methods: ("createTasks" | "submitRefused")[], run: () => Promise<T>): Promise<T> {
    const stub = ledgerObject(tenantId);
    const proto = await runInDurableObject(stub, (instance) => Object.getPrototypeOf(instance));
    const originals = methods.map((m) => [m, proto[m]] as const);
    // RPC calls methods of the class, so the patch is on the prototype: it acts for this tenant's object only.
    for (const [m, original] of originals)
      proto[m] = async function (this: { ctx: DurableObjectState }, ...args: unknown[]) {
        if (!this.ctx.id.equals(stub.id)) return original.apply(this, args);
        if (m === "createTasks") await original.apply(this, args);
        throw new Error("simulated lost answer");
      };
    try {
      return await run();
    } finally {
      for (const [m, original] of originals) proto[m] = original;
    }
  }

  it("the Worker, which never sent it, withdraws it: 503, nothing held, and RunAPI never sees it", async () => {
    const { key, tenantId } = await tenantWithKey();
    const marker = nonce();
    const res = await losing(tenantId, ["createTasks"], () => api(key, CREATE, { body: t2v(marker) }));
    const error = await expectError(res, 503, "service_unavailable");
    expect(error.message).toMatch(/nothing was sent to RunAPI and nothing is held/);
    expect(res.headers.get("Retry-After")).toBe("1");
    expect((await me(key)).budgets.tenant).toMatchObject({ reserved_usd: 0, spent_usd: 0 });
    // The task was held, then withdrawn: the alarm does not send it later.
    const listed = (await json(await api(key, "/api/v1/tasks"))).tasks[0];
    const task = await getTask(key, listed.id);
    expect(task).toMatchObject({ status: "failed", charged_usd: 0, error_code: "service_unavailable" });
    await advanceClock(tenantId, LONGEST_CREATE_MS);
    expect(await upstreamCreates(marker)).toEqual({ sent: 0, keys: new Set() });
    expect(await getTask(key, task.id)).toMatchObject({ status: "failed", charged_usd: 0 });
  });

  it("a create call that reaches the object after its senders stopped waiting holds nothing (they may have withdrawn it)", async () => {
    const { key, keyId, tenantId } = await tenantWithKey();
    const late = await heldCreate(tenantId, keyId, nonce());
    // The Worker gives up on a call after STALE_CALL_MS (5 s) and makes its own; the object refuses one older than 4 s.
    expect(await ledgerObject(tenantId).createTasks([late], Date.now() - 4_500)).toEqual([{ ok: false, code: "failed" }]);
    expect((await me(key)).budgets.tenant.reserved_usd).toBe(0);
    expect((await json(await api(key, "/api/v1/tasks"))).tasks).toEqual([]);
    const fresh = await heldCreate(tenantId, keyId, nonce());
    expect((await ledgerObject(tenantId).createTasks([fresh], Date.now() - 1_000))[0]).toMatchObject({ ok: true });
    expect((await me(key)).budgets.tenant.reserved_usd).toBe(0.3);
  });

  it("RunAPI's ids for earlier creates that ride in a create call are recorded first, even when the call comes too late to hold", async () => {
    const { keyId, tenantId } = await tenantWithKey();
    const earlier = await heldCreate(tenantId, keyId, nonce());
    expect((await ledgerObject(tenantId).createTasks([earlier]))[0]).toMatchObject({ ok: true });
    const upstreamId = crypto.randomUUID();
    const late = await heldCreate(tenantId, keyId, nonce());
    expect(await ledgerObject(tenantId).createTasks([late], Date.now() - 4_500, [{ taskId: earlier.taskId, upstreamId }])).toEqual([
      { ok: false, code: "failed" },
    ]);
    const record = await runInDurableObject(ledgerObject(tenantId), (instance) =>
      (instance as unknown as { tasks: { get(id: string): { upstream_id: string | null; submit: string } | undefined } }).tasks.get(earlier.taskId),
    );
    expect(record).toMatchObject({ upstream_id: upstreamId, submit: "accepted" });
  });

  it("under a burst (16 at once, within the default 20 unfinished tasks) every create's RunAPI id is recorded, whether it rode in a later create call or went alone", async () => {
    const { key, tenantId } = await tenantWithKey();
    const marker = nonce();
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => api(key, CREATE, { body: t2v(`${marker} ${i}`) })));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    const ids = await Promise.all(answers.map(async (r) => (await json(r)).id as string));
    for (const id of ids) await recorded(tenantId, id);
    // Recorded as RunAPI named them: the alarm has nothing to re-send.
    await advanceClock(tenantId, LONGEST_CREATE_MS);
    for (const id of ids) expect(await getTask(key, id)).toMatchObject({ status: "pending" });
    expect((await upstreamCreates(marker)).sent).toBe(16);
  });

  it("if the withdrawal is lost too, a retry WITHOUT an Idempotency-Key gets the task the client was told of, never a second one (issue 17 #4)", async () => {
    const { key, tenantId } = await tenantWithKey();
    const marker = nonce();
    const send = () => api(key, CREATE, { body: t2v(marker) });
    const lost = await losing(tenantId, ["createTasks", "submitRefused"], send);
    const error = await expectError(lost, 503, "service_unavailable");
    const told = error.details.task_id as string;
    expect(error.message).toContain(`GET /api/v1/tasks/${told}`);
    // The client retries after Retry-After (1 s); meanwhile the object's alarm sends the held create.
    await new Promise((r) => setTimeout(r, 1_000));
    await advanceClock(tenantId, LONGEST_CREATE_MS);
    const retried = await send();
    expect(retried.status).toBe(200);
    expect(retried.headers.get("Idempotent-Replayed")).toBe("true");
    expect((await json(retried)).id).toBe(told);
    expect(await upstreamCreates(marker)).toEqual({ sent: 1, keys: new Set([told]) });
    expect((await me(key)).budgets.tenant.reserved_usd).toBe(0.3);
  });

  it("without an Idempotency-Key, the same request again after its client heard the answer is a new task", async () => {
    const { key } = await tenantWithKey();
    const body = t2v(nonce());
    const first = await json(await api(key, CREATE, { body }));
    await new Promise((r) => setTimeout(r, 1_000));
    const second = await api(key, CREATE, { body });
    expect(second.status).toBe(200);
    expect(second.headers.get("Idempotent-Replayed")).toBeNull();
    expect((await json(second)).id).not.toBe(first.id);
    // And two identical requests at the same moment are two tasks too.
    const [a, b] = await Promise.all([api(key, CREATE, { body }), api(key, CREATE, { body })]);
    expect((await json(a)).id).not.toBe((await json(b)).id);
  });

  it("if the withdrawal is lost too, the client is told the outcome is unknown, and a retry with the same Idempotency-Key gets the one task", async () => {
    const { key, tenantId } = await tenantWithKey();
    const marker = nonce();
    const send = () => api(key, CREATE, { body: t2v(marker), headers: { "Idempotency-Key": marker } });
    const lost = await losing(tenantId, ["createTasks", "submitRefused"], send);
    expect((await expectError(lost, 503, "service_unavailable")).message).toMatch(/could not be confirmed/);
    // Held: the alarm sends it when the Worker's create would have ended.
    expect((await me(key)).budgets.tenant.reserved_usd).toBe(0.3);
    await advanceClock(tenantId, LONGEST_CREATE_MS);
    const retried = await send();
    expect(retried.status).toBe(200);
    expect(retried.headers.get("Idempotent-Replayed")).toBe("true");
    const id = (await json(retried)).id as string;
    expect(await upstreamCreates(marker)).toEqual({ sent: 1, keys: new Set([id]) });
    await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
    await eventually(async () => expect(await getTask(key, id)).toMatchObject({ status: "completed", charged_usd: 0.3 }));
    expect((await me(key)).budgets.tenant).toMatchObject({ reserved_usd: 0, spent_usd: 0.3 });
  });
});
