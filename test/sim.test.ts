import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseMarkers, progress, taskView, type TaskRecord } from "../sim/progress";

// The RunAPI simulator, reached the way the proxy reaches it: through the RUNAPI service binding.
const sim = (env as unknown as { RUNAPI: Fetcher }).RUNAPI;
const UPSTREAM_KEY = "sk-runapi-UPSTREAM-test-9f2c41d7e0";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// Response bodies are asserted field by field, so a loose JSON shape keeps the tests readable.
type Json = Record<string, any>;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return sim.fetch(`https://runapi.test${path}`, {
    method,
    headers: { authorization: `Bearer ${UPSTREAM_KEY}`, "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Control API calls carry no key. */
async function control(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await sim.fetch(`https://runapi.test/__sim${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  expect(res.status).toBe(200);
  return res.json();
}

const t2v = (prompt: string, extra: Json = {}) => ({ model: "hailuo-02-text-to-video-standard", prompt, ...extra });
const i2v = (prompt: string) => ({ model: "hailuo-02-image-to-video-standard", prompt, first_frame_image_url: "https://img.test/a.png" });
const unique = (text = "a fox") => `${text} ${crypto.randomUUID()}`;

async function create(body: Json, endpoint = "text_to_video", headers: Record<string, string> = {}): Promise<Json> {
  const res = await call("POST", `/api/v1/hailuo/${endpoint}`, body, headers);
  expect(res.status).toBe(200);
  return res.json();
}

const advance = (id: string, body: Json) => control("POST", `/tasks/${id}/advance`, body);
const statusOf = async (id: string, endpoint = "text_to_video") => (await call("GET", `/api/v1/hailuo/${endpoint}/${id}`)).json<Json>();
const outbox = async (id: string) => (await control("GET", `/outbox?task_id=${id}`)).callbacks as Json[];

describe("auth", () => {
  it("answers 401 without a key", async () => {
    const res = await sim.fetch("https://runapi.test/api/v1/me/balance");
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: "unauthorized", message: "Invalid API key" } });
  });

  it("answers 401 for a key other than the upstream key", async () => {
    const res = await call("POST", "/api/v1/hailuo/text_to_video", t2v(unique()), { authorization: "Bearer sk_tenant_key" });
    expect(res.status).toBe(401);
  });
});

describe("hailuo create and status", () => {
  it("creates a text_to_video task as pending with a UUID id and task_id", async () => {
    const task = await create(t2v(unique()));
    expect(task).toEqual({ id: expect.stringMatching(UUID), task_id: task.id, status: "pending", model: "hailuo-02-text-to-video-standard" });
  });

  it("shows an image_to_video task on its status GET", async () => {
    const { id } = await create(i2v(unique()), "image_to_video");
    const status = await statusOf(id, "image_to_video");
    expect(status).toMatchObject({ id, task_id: id, status: "pending", model: "hailuo-02-image-to-video-standard" });
    expect(status.videos).toBeUndefined();
    expect(Date.parse(status.created_at)).not.toBeNaN();
  });

  it("answers 404 for a task read on the other endpoint", async () => {
    const { id } = await create(t2v(unique()));
    const res = await call("GET", `/api/v1/hailuo/image_to_video/${id}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("answers 404 for an unknown task id", async () => {
    const res = await call("GET", `/api/v1/hailuo/text_to_video/${crypto.randomUUID()}`);
    expect(res.status).toBe(404);
  });

  it("rejects an invalid body with its own validator's 400, naming each bad field", async () => {
    const res = await call("POST", "/api/v1/hailuo/text_to_video", { model: "hailuo-02-text-to-video-standard", colour: "red" });
    expect(res.status).toBe(400);
    const body = await res.json<Json>();
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.message).toContain("prompt");
    expect(body.error.message).toContain("colour");
  });

  it("takes no legacy aliases: the proxy renames them before RunAPI sees them", async () => {
    const body = { model: "hailuo-2-3-image-to-video-pro", prompt: unique(), image_url: "https://img.test/a.png" };
    const res = await call("POST", "/api/v1/hailuo/image_to_video", body);
    expect(res.status).toBe(400);
    const message = (await res.json<Json>()).error.message as string;
    expect(message).toContain("model: unknown model hailuo-2-3-image-to-video-pro");
  });
});

describe("idempotency", () => {
  it("replays the first response for the same key and body", async () => {
    const key = crypto.randomUUID();
    const body = t2v(unique());
    const first = await create(body, "text_to_video", { "idempotency-key": key });
    const again = await create({ prompt: body.prompt, model: body.model }, "text_to_video", { "idempotency-key": key });
    expect(again).toEqual(first);
  });

  it("answers 409 for the same key with another body", async () => {
    const key = crypto.randomUUID();
    await create(t2v(unique()), "text_to_video", { "idempotency-key": key });
    const res = await call("POST", "/api/v1/hailuo/text_to_video", t2v(unique()), { "idempotency-key": key });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: { code: "idempotency_conflict" } });
  });

  it("lists every task made for an Idempotency-Key, one per key, with its status now", async () => {
    const [k1, k2] = [crypto.randomUUID(), crypto.randomUUID()];
    const firstBody = t2v(unique());
    const first = await create(firstBody, "text_to_video", { "idempotency-key": k1 });
    const body = t2v(unique());
    const second = await create(body, "text_to_video", { "idempotency-key": k2 });
    await create(body, "text_to_video", { "idempotency-key": k2 }); // a replay makes nothing new
    await create(t2v(unique())); // no key: not listed
    await advance(first.id, { status: "completed", cost_cents: 37 });
    const { tasks } = await control("GET", "/idempotency");
    const mine = (tasks as Json[]).filter((t) => t.key === k1 || t.key === k2);
    expect(mine).toEqual([
      { key: k1, task_id: first.id, status: "completed", prompt: firstBody.prompt, cost_cents: 37 },
      { key: k2, task_id: second.id, status: "pending", prompt: body.prompt },
    ]);
  });

  it("rejects a key longer than 512 characters", async () => {
    const res = await call("POST", "/api/v1/hailuo/text_to_video", t2v(unique()), { "idempotency-key": "k".repeat(513) });
    expect(res.status).toBe(400);
  });
});

describe("faults", () => {
  it("[sim:500] answers 500", async () => {
    const res = await call("POST", "/api/v1/hailuo/text_to_video", t2v(unique("[sim:500]")));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "internal error" });
  });

  it("[sim:429] answers 429 with Retry-After", async () => {
    const res = await call("POST", "/api/v1/hailuo/text_to_video", t2v(unique("[sim:429]")));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
  });

  it("[sim:slow] answers normally after SIM_SLOW_MS", async () => {
    const started = Date.now();
    const task = await create(t2v(unique("[sim:slow]")));
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_900);
    expect(task.status).toBe("pending");
  });

  it("[sim:cost=NN] reports the cost on the completed task", async () => {
    const { id } = await create(t2v(unique("[sim:cost=12.5]")));
    await advance(id, { status: "completed" });
    expect(await statusOf(id)).toMatchObject({ status: "completed", cost_cents: 12.5 });
  });

  it("[sim:status-503] answers status GETs 503 until the task is terminal", async () => {
    const { id } = await create(t2v(unique("[sim:status-503]")));
    expect((await call("GET", `/api/v1/hailuo/text_to_video/${id}`)).status).toBe(503);
    await advance(id, { status: "completed" });
    const res = await call("GET", `/api/v1/hailuo/text_to_video/${id}`);
    expect(res.status).toBe(200);
    expect((await res.json<Json>()).status).toBe("completed");
  });

  it("[sim:no-callback] never emits a callback", async () => {
    const { id } = await create(t2v(unique("[sim:no-callback]"), { callback_url: "http://127.0.0.1:8787/webhooks/x" }));
    await advance(id, { status: "completed" });
    expect(await outbox(id)).toEqual([]);
  });
});

describe("control API and callbacks", () => {
  it("advances a task to completed with a video and the schedule's price as its cost", async () => {
    const { id } = await create(t2v(unique()));
    const forced = await advance(id, { status: "completed" });
    expect(forced.status).toBe("completed");
    const status = await statusOf(id);
    // The simulator serves the video itself, on the origin it was called on.
    expect(status.videos).toEqual([{ url: `https://runapi.test/videos/${id}.mp4` }]);
    // 02 standard without a duration renders RunAPI's default 10 s: 50 cents in the bundled schedule.
    expect(status.cost_cents).toBe(50);
  });

  it("[sim:cost=none] reports no cost at all", async () => {
    const { id } = await create(t2v(unique("[sim:cost=none]")));
    await advance(id, { status: "completed" });
    expect((await statusOf(id)).cost_cents).toBeUndefined();
  });

  it("advances a task to failed with the given error", async () => {
    const { id } = await create(t2v(unique()));
    await advance(id, { status: "failed", error: "content policy" });
    expect(await statusOf(id)).toMatchObject({ status: "failed", error: { code: "generation_failed", message: "content policy" } });
  });

  it("takes cost_cents from advance", async () => {
    const { id } = await create(t2v(unique()));
    await advance(id, { status: "completed", cost_cents: 42 });
    expect((await statusOf(id)).cost_cents).toBe(42);
  });

  it("ignores a backward move", async () => {
    const { id } = await create(t2v(unique()));
    await advance(id, { status: "completed" });
    expect((await advance(id, { status: "processing" })).status).toBe("completed");
  });

  it("emits one callback per terminal transition, carrying the task JSON", async () => {
    const url = `http://127.0.0.1:8787/webhooks/runapi/${crypto.randomUUID()}/tok`;
    const { id } = await create(t2v(unique(), { callback_url: url }));
    await advance(id, { status: "processing" });
    expect(await outbox(id)).toEqual([]);
    await advance(id, { status: "completed" });
    await advance(id, { status: "failed" });
    const callbacks = await outbox(id);
    expect(callbacks).toHaveLength(1);
    expect(callbacks[0]).toMatchObject({ url, body: { id, status: "completed", videos: [{ url: expect.any(String) }] } });
  });

  it("removes callbacks it hands out with outbox/take", async () => {
    const { id } = await create(t2v(unique(), { callback_url: "http://127.0.0.1:8787/cb" }));
    await advance(id, { status: "failed" });
    expect((await control("POST", `/outbox/take?task_id=${id}`)).callbacks).toHaveLength(1);
    expect(await outbox(id)).toEqual([]);
  });

  it("emits no callback for a task without callback_url", async () => {
    const { id } = await create(t2v(unique()));
    await advance(id, { status: "completed" });
    expect(await outbox(id)).toEqual([]);
  });

  it("shows a task's callback_url and prompt", async () => {
    const prompt = unique();
    const { id } = await create(t2v(prompt, { callback_url: "http://127.0.0.1:8787/cb" }));
    expect(await control("GET", `/tasks/${id}`)).toMatchObject({ id, status: "pending", prompt, callback_url: "http://127.0.0.1:8787/cb" });
  });
});

describe("progress over time (pure)", () => {
  const timings = { processingAfterMs: 2_000, completeAfterMs: 8_000 };
  const task = (prompt: string, forced: Partial<TaskRecord> = {}): TaskRecord => ({
    id: "7d1e6f0a-3c1b-4b7e-9a51-0c2f9f2a1e10",
    service: "hailuo",
    endpoint: "text_to_video",
    modality: "video",
    model: "hailuo-02-text-to-video-standard",
    prompt,
    text: prompt,
    body: { prompt },
    priceCents: 50,
    callbackUrl: null,
    createdAt: 1_000_000,
    forcedStatus: null,
    forcedAt: null,
    forcedCostCents: null,
    forcedError: null,
    ...forced,
  });

  it("moves pending → processing → completed with time", () => {
    expect(progress(task("x"), 1_001_999, timings).status).toBe("pending");
    expect(progress(task("x"), 1_002_000, timings)).toEqual({ status: "processing", since: 1_002_000 });
    expect(progress(task("x"), 1_008_000, timings)).toEqual({ status: "completed", since: 1_008_000 });
  });

  it("ends [sim:fail] tasks failed with generation_failed", () => {
    const view = taskView(task("x [sim:fail]"), 1_009_000, timings);
    expect(view).toMatchObject({ status: "failed", error: { code: "generation_failed" } });
    expect(view.videos).toBeUndefined();
  });

  it("lets a forced state win but never go backwards", () => {
    const forcedProcessing = task("x", { forcedStatus: "processing", forcedAt: 1_000_500 });
    expect(progress(forcedProcessing, 1_001_000, timings).status).toBe("processing");
    expect(progress(forcedProcessing, 1_009_000, timings).status).toBe("completed");
    expect(progress(task("x", { forcedStatus: "failed", forcedAt: 1_000_500 }), 1_009_000, timings).status).toBe("failed");
  });

  it("reads fractional cost markers", () => {
    expect(parseMarkers("a [sim:cost=12.5] b").costCents).toBe(12.5);
    expect(parseMarkers("a b").costCents).toBeUndefined();
  });
});

describe("account endpoints", () => {
  const quote = (model: string, action: string, params: Json = {}) => call("POST", "/api/v1/price_quotes", { service: "hailuo", action, model, params });

  it("quotes from the simulator's schedule", async () => {
    const res = await quote("hailuo-02-image-to-video-standard", "image_to_video", { duration_seconds: 10, output_resolution: "512p" });
    expect(res.status).toBe(200);
    const body = await res.json<Json>();
    expect(body.price_quote).toMatchObject({ reservation_amount_cents: 20, currency: "USD", model: "hailuo-02-image-to-video-standard" });
    expect(Date.parse(body.price_quote.expires_at)).toBeGreaterThan(Date.now());
  });

  it("quotes a model's defaults when params are absent (2.3 pro: 6 s at 1080p)", async () => {
    const body = await (await quote("hailuo-2.3-image-to-video-pro", "image_to_video")).json<Json>();
    expect(body.price_quote.reservation_amount_cents).toBe(80);
  });

  it("refuses to quote an unknown model or an unoffered combination", async () => {
    expect((await quote("hailuo-99", "text_to_video")).status).toBe(400);
    expect((await quote("hailuo-2.3-image-to-video-standard", "image_to_video", { duration_seconds: 10, output_resolution: "1080p" })).status).toBe(400);
  });

  it("reports the balance", async () => {
    expect(await (await call("GET", "/api/v1/me/balance")).json()).toEqual({ balance_cents: 100000, currency: "USD" });
  });
});

describe("OpenAI-compatible endpoints", () => {
  it("lists the Hailuo and chat models", async () => {
    const body = await (await call("GET", "/v1/models")).json<Json>();
    expect(body.object).toBe("list");
    const ids = (body.data as Json[]).map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(["hailuo-02-text-to-video-standard", "hailuo-2.3-image-to-video-pro", "gpt-4o-mini"]));
    expect(ids.filter((id) => id.startsWith("hailuo-"))).toHaveLength(6);
  });

  it("answers a chat completion", async () => {
    const res = await call("POST", "/v1/chat/completions", { model: "gpt-4o-mini", messages: [{ role: "user", content: "hello there" }] });
    const body = await res.json<Json>();
    expect(body).toMatchObject({
      object: "chat.completion",
      model: "gpt-4o-mini",
      choices: [{ message: { role: "assistant", content: "Simulated reply to: hello there" }, finish_reason: "stop" }],
    });
  });

  it("streams a chat completion as server-sent events ending [DONE]", async () => {
    const res = await call("POST", "/v1/chat/completions", { model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "hello there" }] });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const lines = (await res.text()).split("\n\n").filter(Boolean);
    expect(lines.at(-1)).toBe("data: [DONE]");
    const text = lines
      .slice(0, -1)
      .map((l) => JSON.parse(l.slice("data: ".length)).choices[0].delta.content ?? "")
      .join("");
    expect(text).toBe("Simulated reply to: hello there");
  });

  it("answers 404 JSON for an unknown route", async () => {
    const res = await call("GET", "/api/v1/nothing");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });
});

describe("request record", () => {
  it("records rejected requests with their raw headers and body", async () => {
    const nonce = crypto.randomUUID();
    const raw = JSON.stringify(t2v(`fox ${nonce}`));
    await call("POST", "/api/v1/hailuo/text_to_video", raw, { authorization: "Bearer sk_tenant_secret", "idempotency-key": nonce });
    const { requests } = await control("GET", `/requests?contains=${nonce}`);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      method: "POST",
      path: "/api/v1/hailuo/text_to_video",
      body: raw,
      headers: { authorization: "Bearer sk_tenant_secret", "idempotency-key": nonce, "content-type": "application/json" },
    });
  });

  it("filters by path prefix", async () => {
    const nonce = crypto.randomUUID();
    await create(t2v(`fox ${nonce}`));
    await call("POST", "/v1/chat/completions", { model: "gpt-4o-mini", messages: [{ role: "user", content: nonce }] });
    const { requests } = await control("GET", `/requests?contains=${nonce}&path=/v1/`);
    expect(requests.map((r: Json) => r.path)).toEqual(["/v1/chat/completions"]);
  });
});
