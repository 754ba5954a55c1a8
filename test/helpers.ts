import { env, exports } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { Bindings } from "../src/env";

/** The upstream key and admin token the test worker is configured with (vitest.config.ts). */
export const UPSTREAM_KEY = "sk-runapi-UPSTREAM-test-9f2c41d7e0";
export const ADMIN_TOKEN = "admin-test-token-3b8e1f";
const BASE = "https://proxy.test";

/** Calls the proxy as a client would. */
export function proxy(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

/** Calls the proxy with a tenant key and an optional JSON body. */
export function api(key: string, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  return proxy(path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { Authorization: `Bearer ${key}`, ...(init.body === undefined ? {} : { "Content-Type": "application/json" }), ...init.headers },
    body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
  });
}

/** Calls the operator API. */
export function admin(path: string, init: { method?: string; body?: unknown } = {}) {
  return proxy(path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

/** Creates a tenant (fresh id) with a secret key; returns both. */
export async function tenantWithKey(tenant: Record<string, unknown> = {}, key: Record<string, unknown> = {}) {
  const id = `t-${crypto.randomUUID()}`;
  const res = await admin("/admin/v1/tenants", { body: { id, name: "Test tenant", budget: { limit_usd: 100, period: "month" }, ...tenant } });
  if (res.status !== 201) throw new Error(`tenant create failed: ${res.status} ${await res.text()}`);
  const created = (await res.json()) as { tenant: { id: string; webhook_secret: string } };
  const k = await newKey(id, key);
  return { tenantId: id, key: k.key, keyId: k.id, webhookSecret: created.tenant.webhook_secret };
}

/** Issues another key for a tenant. */
export async function newKey(tenantId: string, body: Record<string, unknown> = {}) {
  const res = await admin(`/admin/v1/tenants/${tenantId}/keys`, { body: { kind: "secret", ...body } });
  if (res.status !== 201) throw new Error(`key create failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; key: string };
}

/** A unique marker to find this test's traffic in the simulator's record. */
export function nonce(): string {
  return `n-${crypto.randomUUID()}`;
}

/** A valid text-to-video body (02 standard, 6 s = $0.30). */
export function t2v(prompt: string, extra: Record<string, unknown> = {}) {
  return { model: "hailuo-02-text-to-video-standard", prompt, duration_seconds: 6, ...extra };
}

/** A valid image-to-video body (02 standard). */
export function i2v(prompt: string, extra: Record<string, unknown> = {}) {
  return { model: "hailuo-02-image-to-video-standard", prompt, first_frame_image_url: "https://img.test/a.png", ...extra };
}

/** Calls the simulator directly (its control API or RunAPI routes). */
export function sim(path: string, init: RequestInit = {}): Promise<Response> {
  return (env as Bindings).RUNAPI!.fetch(`https://runapi.test${path}`, init);
}

/** What the simulator received whose raw body contains `marker`. */
export async function simRequests(marker: string) {
  const res = await sim(`/__sim/requests?contains=${encodeURIComponent(marker)}`);
  return ((await res.json()) as { requests: { method: string; path: string; headers: Record<string, string>; body: string }[] }).requests;
}

/** RunAPI's id for a proxy task: the simulator's task made with the proxy's task id as Idempotency-Key; null when RunAPI never got it. */
export async function upstreamIdOf(taskId: string): Promise<string | null> {
  const res = await sim(`/__sim/idempotency/${taskId}`);
  if (res.status === 404) return null;
  return ((await res.json()) as { id: string }).id;
}

/** Moves the simulator's copy of a task forward (which queues its callback). */
export async function advanceUpstream(taskId: string, body: { status: "processing" | "completed" | "failed"; cost_cents?: number }) {
  const upstreamId = await upstreamIdOf(taskId);
  if (!upstreamId) throw new Error(`task ${taskId} never reached the simulator`);
  const res = await sim(`/__sim/tasks/${upstreamId}/advance`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`advance failed: ${res.status}`);
  return upstreamId;
}

/** Delivers the simulator's queued callbacks for a task to the proxy, as RunAPI would; returns their responses. */
export async function deliverCallbacks(upstreamId: string): Promise<Response[]> {
  const res = await sim(`/__sim/outbox/take?task_id=${upstreamId}`, { method: "POST" });
  const { callbacks } = (await res.json()) as { callbacks: { url: string; body: unknown }[] };
  const out: Response[] = [];
  for (const cb of callbacks) {
    out.push(
      await exports.default.fetch(new Request(cb.url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(cb.body) })),
    );
  }
  return out;
}

/** Waits (briefly) until `check` passes; for work a task object does by alarm after a callback. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() - start > timeoutMs) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** Reads JSON with a loose type for assertions. */
export async function json(res: Response): Promise<any> {
  return res.json();
}

/** The tenant's object (its ledger and its tasks). */
export function ledgerObject(tenantId: string) {
  return env.LEDGER.get(env.LEDGER.idFromName(tenantId));
}

/** Moves the tenant object's clock by `ms` (its alarm then sees polls, expiry and retries fall due), and runs its alarm. */
export async function advanceClock(tenantId: string, ms: number): Promise<void> {
  const stub = ledgerObject(tenantId);
  await runInDurableObject(stub, (instance) => {
    const before = instance.clock;
    instance.clock = () => before() + ms;
  });
  await runAlarm(tenantId);
}

/**
 * Waits until the tenant's object has recorded RunAPI's id for a task. The Worker answers the create
 * first and hands the id over after, so a test that moves the clock right after a create waits for this.
 */
export async function recorded(tenantId: string, taskId: string): Promise<void> {
  await eventually(async () => {
    // The object's task rows are private to it; this reads one from inside, as runInDurableObject allows.
    const rows = (instance: unknown) => (instance as { tasks: { get(id: string): { upstream_id: string | null } | undefined } }).tasks;
    const upstreamId = await runInDurableObject(ledgerObject(tenantId), (instance) => rows(instance).get(taskId)?.upstream_id);
    expect(upstreamId).toBeTruthy();
  });
}

/** Runs the tenant object's alarm now (whatever time it was set for), if one is set. */
export async function runAlarm(tenantId: string): Promise<boolean> {
  return runDurableObjectAlarm(ledgerObject(tenantId));
}

/** Reads a task through the API. */
export async function getTask(key: string, taskId: string): Promise<any> {
  return json(await api(key, `/api/v1/tasks/${taskId}`));
}

/** Reads the caller's budgets through the API. */
export async function me(key: string): Promise<any> {
  return json(await api(key, "/api/v1/me"));
}

import { expect, vi } from "vitest";

/**
 * Asserts a SPEC §3 error response — status, `{error:{code,message,request_id}}`, `X-Request-Id`
 * matching `request_id` — and returns the `error` object.
 */
export async function expectError(res: Response, status: number, code: string): Promise<{ code: string; message: string; request_id: string; details?: any }> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("Content-Type") ?? "").toMatch(/^application\/json/);
  const body = JSON.parse(text);
  expect(body.error, text).toMatchObject({ code, message: expect.any(String), request_id: expect.any(String) });
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(res.headers.get("X-Request-Id")).toBe(body.error.request_id);
  return body.error;
}

/** The field names a 400's `details.issues` lists. */
export function issueFields(error: { details?: any }): string[] {
  return ((error.details?.issues ?? []) as { field: string }[]).map((i) => i.field);
}

/** `GET /api/v1/me`'s tenant-scope budget (spent/reserved/remaining USD). */
export async function tenantBudget(key: string): Promise<{ limit_usd: number; spent_usd: number; reserved_usd: number; remaining_usd: number }> {
  const res = await api(key, "/api/v1/me");
  if (res.status !== 200) throw new Error(`GET /api/v1/me failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as any).budgets.tenant;
}

/**
 * Answers a tenant's webhook receiver in-test (URLs starting `prefix`) with `statuses` in turn, then the
 * last one; every other request goes out as usual. Returns what it received. Restore with vi.restoreAllMocks().
 */
export function webhookReceiver(prefix: string, statuses: number[] = [200]) {
  const received: { headers: Record<string, string>; body: string; redirect: string }[] = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    if (!req.url.startsWith(prefix)) return realFetch(input as RequestInfo, init);
    received.push({ headers: Object.fromEntries(req.headers), body: await req.text(), redirect: req.redirect });
    return new Response("ok", { status: statuses[Math.min(received.length - 1, statuses.length - 1)] });
  });
  return received;
}

/** The JSON payloads of a server-sent-event body's `data:` events; `[DONE]` stays a string. */
export function sseData(text: string): (Record<string, any> | string)[] {
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((e) => {
      const data = e.replace(/^data: /, "");
      return data === "[DONE]" ? data : (JSON.parse(data) as Record<string, unknown>);
    });
}

/** Reads an event stream as it arrives: `until(needle)` reads until the text so far contains it; `text()` is all read so far. */
export function streamReader(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  return {
    text: () => text,
    async until(needle: string): Promise<void> {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) return;
        text += value;
      }
    },
    async rest(): Promise<string> {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += value;
      }
    },
  };
}

/** Calls one of the simulator's RunAPI routes with the upstream key, as the proxy does (a JSON body when given). */
export function simApi(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  return sim(path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { Authorization: `Bearer ${UPSTREAM_KEY}`, ...(init.body === undefined ? {} : { "Content-Type": "application/json" }), ...init.headers },
    body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
  });
}

/** Forces one of the simulator's tasks (its own id) to a state; returns the task as the control API shows it. */
export async function advanceSimTask(id: string, body: { status: "processing" | "completed" | "failed"; cost_cents?: number; error?: string }) {
  const res = await sim(`/__sim/tasks/${id}/advance`, { method: "POST", body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`advance failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, any>;
}
