import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { applyObservation, markAccepted, markUnknown, newTaskRecord, nextDueAt, taskView, type TaskInit } from "../src/domain/task-record";
import { hailuoTaskInit } from "./fixtures";
import { canTransition, nextPollDelayMs, reconcileDelayMs, TASK_STATUSES, webhookRetryDelayMs, type TaskStatus } from "../src/domain/task-state";
import { callbackToken, callbackTokenTenant, newWebhookSecret, signWebhook } from "../src/domain/webhook-signing";

const init: TaskInit = hailuoTaskInit({ notifyUrl: "https://hooks.test/a" });

describe("task state machine", () => {
  const forward: [TaskStatus, TaskStatus][] = [
    // A queued task was never sent (SPEC §14): it starts, or ends (expired); RunAPI cannot report on it.
    ["queued", "pending"],
    ["queued", "failed"],
    ["pending", "processing"],
    ["pending", "completed"],
    ["pending", "failed"],
    ["processing", "completed"],
    ["processing", "failed"],
  ];
  it.each(forward)("%s → %s moves forward", (from, to) => expect(canTransition(from, to)).toBe(true));

  const rest = TASK_STATUSES.flatMap((from) => TASK_STATUSES.map((to) => [from, to] as [TaskStatus, TaskStatus])).filter(
    ([from, to]) => !forward.some(([f, t]) => f === from && t === to),
  );
  it.each(rest)("%s → %s is a no-op", (from, to) => expect(canTransition(from, to)).toBe(false));

  it("records each change with its time and source, and ignores older or repeated states", () => {
    const task = newTaskRecord(init);
    expect(applyObservation(task, { status: "processing", source: "poll" }, 2_000)).toBe(true);
    expect(applyObservation(task, { status: "processing", source: "callback" }, 3_000)).toBe(false);
    expect(applyObservation(task, { status: "pending", source: "callback" }, 3_000)).toBe(false);
    expect(applyObservation(task, { status: "completed", source: "callback", videos: [{ url: "https://v/1.mp4" }] }, 4_000)).toBe(true);
    expect(applyObservation(task, { status: "failed", source: "poll" }, 5_000)).toBe(false);
    expect(task.history).toEqual([
      { status: "pending", at: 1_000, source: "create" },
      { status: "processing", at: 2_000, source: "poll" },
      { status: "completed", at: 4_000, source: "callback" },
    ]);
    expect(task.updated_at).toBe(4_000);
  });

  it("fixes the charge at the terminal state: reported cost, else the estimate; nothing unless completed", () => {
    const reported = newTaskRecord(init);
    applyObservation(reported, { status: "completed", source: "poll", costMicros: 125_000 }, 2_000);
    expect(reported.charge_micros).toBe(125_000);
    const estimated = newTaskRecord(init);
    applyObservation(estimated, { status: "completed", source: "poll" }, 2_000);
    expect(estimated.charge_micros).toBe(300_000);
    const failed = newTaskRecord(init);
    applyObservation(failed, { status: "failed", source: "poll", costMicros: 999 }, 2_000);
    expect(failed.charge_micros).toBe(0);
  });

  it("schedules a task's next work: a create to reconcile, polls, a callback's check, the deadline, webhooks", () => {
    const timing = { ttlMs: 3_600_000, longestCreateMs: 100_000 };
    const t = newTaskRecord(init);
    expect(nextDueAt(t, timing)).toBe(1_000 + 100_000); // no answer by then: re-send the create
    markUnknown(t, 5_000);
    expect(t).toMatchObject({ submit: "unknown", submit_attempts: 1, next_submit_at: 5_000 + reconcileDelayMs(0) });
    expect(nextDueAt(t, timing)).toBe(10_000);
    markAccepted(t, "11111111-2222-4333-8444-555555555555", 95_000);
    expect(nextDueAt(t, timing)).toBe(95_000);
    t.wake_requested = true;
    t.last_poll_at = 90_000;
    expect(nextDueAt(t, timing)).toBe(93_000); // at most one status GET per 3 s
    t.next_poll_at = 10_000_000;
    t.wake_requested = false;
    expect(nextDueAt(t, timing)).toBe(1_000 + 3_600_000); // the deadline
    applyObservation(t, { status: "completed", source: "poll" }, 200_000);
    expect(nextDueAt(t, timing)).toBe(200_000); // the webhook
    t.webhook.state = "delivered";
    expect(nextDueAt(t, timing)).toBeNull();
    expect([0, 1, 5, 10].map(reconcileDelayMs)).toEqual([5_000, 10_000, 160_000, 300_000]);
  });

  it("queues the tenant webhook on a terminal state only when there is somewhere to send it", () => {
    const withHook = newTaskRecord(init);
    applyObservation(withHook, { status: "processing", source: "poll" }, 2_000);
    expect(withHook.webhook.state).toBe("none");
    applyObservation(withHook, { status: "completed", source: "poll" }, 3_000);
    expect(withHook.webhook).toMatchObject({ state: "pending", next_at: 3_000 });
    const without = newTaskRecord({ ...init, notifyUrl: null });
    applyObservation(without, { status: "completed", source: "poll" }, 3_000);
    expect(without.webhook.state).toBe("none");
  });

  it("shows USD in the view and no internals", () => {
    const view = taskView(newTaskRecord(init));
    expect(view).toMatchObject({
      id: init.id,
      task_id: init.id,
      status: "pending",
      estimated_cost_usd: 0.3,
      charged_usd: null,
      created_at: new Date(1_000).toISOString(),
    });
    expect(Object.keys(view)).not.toContain("tenant_id");
    expect(JSON.stringify(view)).not.toContain("proxy.test/webhooks");
  });

  it("backs off polls from the base interval, doubling up to 8×", () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => nextPollDelayMs(15_000, n))).toEqual([15_000, 30_000, 60_000, 120_000, 120_000, 120_000]);
  });

  it("retries webhooks at 5 s, 1 min, 10 min, 1 h, 6 h, then gives up", () => {
    expect([1, 2, 3, 4, 5, 6].map(webhookRetryDelayMs)).toEqual([5_000, 60_000, 600_000, 3_600_000, 21_600_000, null]);
  });
});

describe("signatures", () => {
  it("signs per Standard Webhooks: the reference verifier accepts it", async () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ type: "task.completed", data: { id: "x" } });
    const now = Math.floor(Date.now() / 1000);
    const headers = await signWebhook(secret, "msg_1", now, body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace("x", "y"), headers)).toThrow();
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
  });

  it("derives callback tokens per tenant, task and secret, naming the tenant", async () => {
    const a = await callbackToken("secret-one-0123456789", "acme", "task-a");
    expect(await callbackToken("secret-one-0123456789", "acme", "task-a")).toBe(a);
    expect(await callbackToken("secret-one-0123456789", "acme", "task-b")).not.toBe(a);
    expect(await callbackToken("secret-one-0123456789", "other", "task-a")).not.toBe(a);
    expect(await callbackToken("secret-two-0123456789", "acme", "task-a")).not.toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(callbackTokenTenant(a)).toBe("acme");
    for (const bad of ["", ".", "!!.x", "%%%"]) expect(callbackTokenTenant(bad)).toBeNull();
  });
});
