import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { HEARTBEAT_MS, STALL_MS, TaskEvents } from "../src/durable-objects/task-events";
import type { TaskView } from "../src/domain/task-record";
import { advanceUpstream, api, deliverCallbacks, eventually, expectError, getTask, json, ledgerObject, nonce, t2v, tenantWithKey } from "./helpers";

// SPEC §13 "Streams are bounded": SSE_MAX_STREAMS_PER_TASK (5) and SSE_MAX_STREAMS_PER_TENANT (200) open event
// streams, a stream whose reader is gone released within a minute, and a fixed memory per stream.

const createTask = async (key: string) => (await json(await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) }))).id as string;

/** Opens a task's event stream and reads its first frame (so it is open on the object's side). */
async function openStream(key: string, id: string) {
  const res = await api(key, `/api/v1/tasks/${id}/events`);
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  await reader.read();
  return reader;
}

type Inside = { clock: () => number; streams: TaskEvents };

/** The number of open streams the tenant's object holds. */
const openStreams = (tenantId: string) => runInDurableObject(ledgerObject(tenantId), (o) => (o as unknown as Inside).streams.size);

/** A minute passes for the tenant's object: its clock moves on and its heartbeats run, one every HEARTBEAT_MS. */
async function aMinutePasses(tenantId: string) {
  for (let t = 0; t < 60_000; t += HEARTBEAT_MS) {
    await runInDurableObject(ledgerObject(tenantId), (o) => {
      const inside = o as unknown as Inside;
      const before = inside.clock;
      inside.clock = () => before() + HEARTBEAT_MS;
      inside.streams.heartbeat(inside.clock());
    });
    await new Promise((resolve) => setTimeout(resolve, 20)); // the relay notices a write it cannot pass on
  }
}

describe("open event streams are capped", () => {
  it("a task takes 5 open streams; the 6th is a 429 with Retry-After; a client that left or stopped reading frees its place within a minute", async () => {
    const { key, tenantId } = await tenantWithKey();
    const id = await createTask(key);
    const readers = [];
    for (let i = 0; i < 5; i++) readers.push(await openStream(key, id));
    const refused = await api(key, `/api/v1/tasks/${id}/events`);
    expect(refused.headers.get("Retry-After")).toBe("15");
    const error = await expectError(refused, 429, "rate_limited");
    expect(error.details).toMatchObject({ limit: "sse_max_streams_per_task" });
    // Another task of the tenant still has room.
    const live = [...readers.slice(0, 3), await openStream(key, await createTask(key))];
    const draining = live.map(async (r) => {
      for (let read = await r.read(); !read.done; read = await r.read());
    });
    void Promise.allSettled(draining);

    // One client goes away, one stops reading; three keep reading.
    await readers[3]!.cancel();
    const idle = readers[4]!;
    await aMinutePasses(tenantId);
    expect(await openStreams(tenantId)).toBe(4);
    await idle.cancel();
    live.push(await openStream(key, id), await openStream(key, id));
    await expectError(await api(key, `/api/v1/tasks/${id}/events`), 429, "rate_limited");
  });

  it("a tenant takes 200 open streams in all; a finished task's stream (which ends at once) is never refused", { timeout: 120_000 }, async () => {
    // 201 unfinished tasks: no concurrency limit (a new tenant's default is 20).
    const { key, tenantId } = await tenantWithKey({
      budget: { limit_usd: 1000, period: "month" },
      limits: { max_concurrent_tasks: null, requests_per_minute: null },
    });
    const readers = [];
    for (let t = 0; t < 40; t++) {
      const id = await createTask(key);
      for (let i = 0; i < 5; i++) readers.push(await openStream(key, id));
    }
    expect(await openStreams(tenantId)).toBe(200);
    const id = await createTask(key);
    const error = await expectError(await api(key, `/api/v1/tasks/${id}/events`), 429, "rate_limited");
    expect(error.details).toMatchObject({ limit: "sse_max_streams_per_tenant" });

    await deliverCallbacks(await advanceUpstream(id, { status: "failed" }));
    await eventually(async () => expect((await getTask(key, id)).status).toBe("failed"));
    const finished = await api(key, `/api/v1/tasks/${id}/events`);
    expect(finished.status).toBe(200);
    expect(await finished.text()).toContain('"status":"failed"');
    await aMinutePasses(tenantId); // the readers of this test stopped reading
    expect(await openStreams(tenantId)).toBe(0);
    void readers;
  });
});

describe("TaskEvents: a fixed memory per stream, and readers that went away are released", () => {
  const view = (status: string, n = 0) => ({ id: "task-1", status, updated_at: String(n) }) as unknown as TaskView;
  const limits = { perTask: 5, perTenant: 200 };

  it("a reader that falls behind keeps one frame in flight and only the newest after it, then gets the end", async () => {
    const events = new TaskEvents(() => 0);
    const stream = events.open(view("pending"), false, { limits }) as ReadableStream<Uint8Array>;
    for (let n = 1; n <= 1000; n++) events.publish(view("processing", n), false);
    events.publish(view("completed", 1001), true);
    const text = await new Response(stream).text();
    expect([...text.matchAll(/"status":"(\w+)","updated_at":"(\d+)"/g)].map((m) => `${m[1]}@${m[2]}`)).toEqual(["pending@0", "completed@1001"]);
    expect(events.size).toBe(0);
  });

  it("a stream whose reader took nothing for STALL_MS is dropped at the next heartbeat (within a minute)", async () => {
    let now = 0;
    const events = new TaskEvents(() => now);
    const stream = events.open(view("pending"), false, { limits }) as ReadableStream<Uint8Array>;
    events.heartbeat((now += HEARTBEAT_MS));
    expect(events.size).toBe(1);
    expect(HEARTBEAT_MS + STALL_MS).toBeLessThanOrEqual(60_000);
    events.heartbeat((now += STALL_MS));
    expect(events.size).toBe(0);
    expect(events.has("task-1")).toBe(false);
    await expect(stream.getReader().read()).rejects.toThrow(/stopped reading/);
  });

  it("an idle stream gets a comment line at each heartbeat, and a failed one is dropped", async () => {
    let now = 0;
    const events = new TaskEvents(() => now);
    const reader = (events.open(view("pending"), false, { limits }) as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the first frame
    const next = reader.read(); // a live reader is always waiting for the next one
    await new Promise((resolve) => setTimeout(resolve, 0));
    events.heartbeat((now += HEARTBEAT_MS));
    expect(new TextDecoder().decode((await next).value)).toBe(": keep-alive\n\n");
    await reader.cancel();
    events.heartbeat((now += HEARTBEAT_MS));
    await eventually(async () => expect(events.size).toBe(0));
  });
});
