// The bench's reference target (issue 7): the least a gateway of this shape can do per create.
// Hono + one KV read + one RPC to an existing SQLite Durable Object that updates a counter +
// the same upstream POST (with an Idempotency-Key and a callback URL, as the proxy sends it). `npm run bench` serves it beside the proxy and reports the proxy's
// create, status and chat paths as ratios to it.
import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";

type Env = { KV: KVNamespace; COUNTER: DurableObjectNamespace<Counter>; RUNAPI_BASE_URL: string; RUNAPI_API_KEY: string };

/** One SQLite row per name, incremented in one statement. */
export class Counter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL)");
  }

  increment(name: string): number {
    return this.ctx.storage.sql
      .exec<{ n: number }>("INSERT INTO counters (name, n) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1 RETURNING n", name)
      .one().n;
  }
}

const app = new Hono<{ Bindings: Env }>()
  .post("/api/v1/:service/:endpoint", async (c) => {
    const auth = c.req.header("authorization") ?? "";
    const seen = await c.env.KV.get(`key:${auth.slice(-16)}`);
    await c.env.COUNTER.get(c.env.COUNTER.idFromName("tenant")).increment(seen ?? "anonymous");
    // The same upstream POST as the proxy's: an Idempotency-Key, and a callback URL in the body.
    const id = crypto.randomUUID();
    const body = (await c.req.text()).replace(/\}\s*$/, `,"callback_url":"${new URL(c.req.url).origin}/webhooks/runapi/${id}/t"}`);
    const res = await fetch(`${c.env.RUNAPI_BASE_URL}/api/v1/${c.req.param("service")}/${c.req.param("endpoint")}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${c.env.RUNAPI_API_KEY}`, "Content-Type": "application/json", "Idempotency-Key": id },
      body,
    });
    return new Response(res.body, { status: res.status, headers: { "Content-Type": "application/json" } });
  })
  // Chat (issue 20): the same least work per request: the key's KV read, one RPC that writes a counter, the upstream
  // call with the upstream key, its answer relayed as it comes.
  .post("/v1/chat/completions", async (c) => {
    const auth = c.req.header("authorization") ?? "";
    const seen = await c.env.KV.get(`key:${auth.slice(-16)}`);
    await c.env.COUNTER.get(c.env.COUNTER.idFromName("tenant")).increment(seen ?? "anonymous");
    const res = await fetch(`${c.env.RUNAPI_BASE_URL}/v1/chat/completions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${c.env.RUNAPI_API_KEY}`, "Content-Type": "application/json" },
      body: await c.req.text(),
    });
    return new Response(res.body, { status: res.status, headers: { "Content-Type": res.headers.get("content-type") ?? "application/json" } });
  })
  .get("/health", (c) => c.json({ ok: true }));

export default app;
