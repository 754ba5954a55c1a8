import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig, type Config } from "../src/env";
import { AppError } from "../src/lib/errors";
import { RunApiClient } from "../src/upstream/runapi";
import { UPSTREAM_KEY, api, expectError, json, nonce, simRequests, t2v, tenantBudget, tenantWithKey } from "./helpers";

const CREATE = "/api/v1/hailuo/text_to_video";

/** Everything the worker logs during a test, as one string. */
let logs: string[] = [];
beforeEach(() => {
  logs = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logs.push(args.map(String).join(" ")));
  }
});
afterEach(() => vi.restoreAllMocks());

type Fault = [marker: string, status: number, code: string, attempts: number, taskError: RegExp];

// Definite answers from RunAPI. A lost answer ([sim:slow] past the timeout) is not a failure: see outcome-unknown.test.ts;
// nor is RunAPI failing (5xx, below): it may have made the task (SPEC §13).

const FAULTS: Fault[] = [
  ["[sim:429]", 429, "rate_limited", 1, /rate limiting/],
  // RunAPI refusing a request the proxy had validated and reserved for: released, and the client told why.
  ["[sim:422]", 400, "invalid_request", 1, /RunAPI rejected the request: An input file could not be fetched/],
];

/** Creates a task whose prompt asks the simulator for `fault`; returns what the client and RunAPI saw. */
async function createWithFault(fault: string) {
  const { key } = await tenantWithKey();
  const marker = nonce();
  const res = await api(key, CREATE, { body: t2v(`${marker} ${fault}`) });
  const raw = await res.clone().text();
  const headers = JSON.stringify([...res.headers]);
  return { key, marker, res, raw, headers };
}

describe("upstream faults on create", () => {
  it.each(FAULTS)("%s answers %i %s", async (fault, status, code, _attempts, taskError) => {
    const { res } = await createWithFault(fault);
    const error = await expectError(res, status, code);
    expect(error.message).toMatch(taskError);
    expect(error.details.task_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each(FAULTS)("%s: RunAPI saw the expected attempts, all with one Idempotency-Key and the upstream key", async (fault, _s, _c, attempts) => {
    const { marker } = await createWithFault(fault);
    const received = await simRequests(marker);
    expect(received).toHaveLength(attempts);
    const keys = new Set(received.map((r) => r.headers["idempotency-key"]));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
    for (const r of received) expect(r.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
  });

  it("[sim:429] passes RunAPI's Retry-After on", async () => {
    const { res } = await createWithFault("[sim:429]");
    expect(res.headers.get("Retry-After")).toBe("7");
    expect((await json(res)).error.details).toMatchObject({ retry_after_seconds: 7 });
  });

  it.each(FAULTS)("%s leaves the task failed, saying what happened", async (fault, _s, code, _a, taskError) => {
    const { key, res } = await createWithFault(fault);
    const taskId = (await json(res)).error.details.task_id;
    const task = await api(key, `/api/v1/tasks/${taskId}`);
    expect(task.status).toBe(200);
    const body = await json(task);
    expect(body).toMatchObject({ id: taskId, status: "failed", charged_usd: 0, error_code: code });
    expect(body.error).toMatch(taskError);
  });

  it.each(FAULTS)("%s leaves no reservation and no spend", async (fault) => {
    const { key } = await createWithFault(fault);
    expect(await tenantBudget(key)).toMatchObject({ reserved_usd: 0, spent_usd: 0, remaining_usd: 100 });
  });

  it.each(FAULTS)("%s lists the task as failed, not unfinished", async (fault) => {
    const { key, res } = await createWithFault(fault);
    const taskId = (await json(res)).error.details.task_id;
    const { tasks } = await json(await api(key, "/api/v1/tasks"));
    expect(tasks).toEqual([expect.objectContaining({ id: taskId, status: "failed" })]);
  });

  it.each(FAULTS)("%s never shows the upstream key in the response or the logs", async (fault) => {
    const { raw, headers } = await createWithFault(fault);
    expect(raw).not.toContain(UPSTREAM_KEY);
    expect(headers).not.toContain(UPSTREAM_KEY);
    expect(logs.join("\n")).not.toContain(UPSTREAM_KEY);
  });

  it("logs a refused create (so the log check above has something to look at)", async () => {
    await createWithFault("[sim:422]");
    expect(logs.join("\n")).toMatch(/invalid_request|422/);
  });

  it("a fault does not stop the next request from being served", async () => {
    const { key } = await createWithFault("[sim:422]");
    const res = await api(key, CREATE, { body: t2v(nonce()) });
    expect(res.status).toBe(200);
    expect(await tenantBudget(key)).toMatchObject({ reserved_usd: 0.3 });
  });
});

describe("RunAPI failing a create (5xx) is outcome unknown, not failure (SPEC §13)", () => {
  it("answers 202 with the task pending and `submission: unknown`; the money stays held; the same Idempotency-Key on every try", async () => {
    const { key, marker, res, raw, headers } = await createWithFault("[sim:500]");
    expect(res.status).toBe(202);
    const created = JSON.parse(raw);
    expect(created).toMatchObject({ status: "pending", submission: "unknown" });
    expect(await tenantBudget(key)).toMatchObject({ reserved_usd: 0.3, spent_usd: 0 });
    expect(await json(await api(key, `/api/v1/tasks/${created.id}`))).toMatchObject({ status: "pending", submission: "unknown" });
    const received = await simRequests(marker);
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.headers["idempotency-key"])).size).toBe(1);
    expect(raw + headers + logs.join("\n")).not.toContain(UPSTREAM_KEY);
  });
});

describe("RunApiClient error mapping (in-test upstream)", () => {
  const config = (): Config => ({ ...loadConfig(env), upstreamRetryBaseMs: 0, upstreamTimeoutMs: 200 });
  const reply =
    (status: number, body: unknown, headers: Record<string, string> = {}) =>
    async () =>
      new Response(typeof body === "string" ? body : JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

  async function createError(fetch: () => Promise<Response>): Promise<AppError> {
    const calls: RequestInit[] = [];
    const client = new RunApiClient(config(), {
      fetch: (async (_url: string, init: RequestInit) => {
        calls.push(init);
        return fetch();
      }) as typeof globalThis.fetch,
    });
    const err = await client
      .createTask("text_to_video", { model: "hailuo-02-text-to-video-standard", prompt: "x" }, crypto.randomUUID())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    const app = err as AppError;
    expect(app.message).not.toContain(UPSTREAM_KEY);
    expect(JSON.stringify(app.details ?? {})).not.toContain(UPSTREAM_KEY);
    expect(JSON.stringify(app.headers ?? {})).not.toContain(UPSTREAM_KEY);
    (app as AppError & { calls: number }).calls = calls.length;
    return app;
  }

  it.each([
    [401, "upstream_error", 502, /operator must check RUNAPI_API_KEY/],
    [403, "upstream_error", 502, /operator must check RUNAPI_API_KEY/],
    [402, "upstream_unavailable", 503, /out of credits.*operator/],
  ])("maps RunAPI %i to %s (%i) naming the operator's problem", async (upstream, code, status, message) => {
    const err = await createError(reply(upstream, { error: { code: "x", message: `key ${UPSTREAM_KEY} refused` } }));
    expect(err).toMatchObject({ code, status, details: { upstream_status: upstream } });
    expect(err.message).toMatch(message);
  });

  it("does not retry a 401 or 402", async () => {
    expect(((await createError(reply(401, {}))) as AppError & { calls: number }).calls).toBe(1);
    expect(((await createError(reply(402, {}))) as AppError & { calls: number }).calls).toBe(1);
  });

  it("redacts the upstream key if RunAPI echoes it in a validation error", async () => {
    const err = await createError(reply(422, { error: `Bearer ${UPSTREAM_KEY} cannot use this model` }));
    expect(err).toMatchObject({ code: "invalid_request", status: 400 });
    expect(err.message).toContain("[redacted]");
  });

  it("retries a 5xx twice, then answers 502", async () => {
    const err = await createError(reply(503, "<html>bad gateway</html>"));
    expect(err).toMatchObject({ code: "upstream_error", status: 502 });
    expect((err as AppError & { calls: number }).calls).toBe(3);
  });

  it("retries a network failure twice, then answers 503", async () => {
    const err = await createError(async () => {
      throw new TypeError(`connect failed to https://runapi.test with ${UPSTREAM_KEY}`);
    });
    expect(err).toMatchObject({ code: "upstream_unavailable", status: 503 });
    expect((err as AppError & { calls: number }).calls).toBe(3);
  });

  it("defaults a 429 without Retry-After to 30 s", async () => {
    const err = await createError(reply(429, {}));
    expect(err).toMatchObject({ code: "rate_limited", status: 429, headers: { "Retry-After": "30" } });
  });

  it("treats a 200 without a task id as an upstream error", async () => {
    expect(await createError(reply(200, { status: "pending" }))).toMatchObject({ code: "upstream_error", status: 502 });
  });
});
