import { describe, expect, it } from "vitest";
import {
  admin,
  api,
  eventually,
  expectError,
  json,
  ledgerObject,
  newKey,
  nonce,
  proxy,
  simRequests,
  tenantBudget,
  sseData,
  tenantWithKey,
  UPSTREAM_KEY,
} from "./helpers";

// OpenAI-compatible chat through the proxy: key swap, passthrough, metering (SPEC §8).

type Json = Record<string, any>;

const MINI = { input: 150_000, output: 600_000 }; // gpt-4o-mini, micro-dollars per 1M tokens
const _words = (s: string) => s.split(/\s+/).filter(Boolean).length;
/** What the simulator's usage costs at gpt-4o-mini's default price (tokens = words). */
const miniCost = (inTokens: number, outTokens: number) => Math.ceil((inTokens * MINI.input + outTokens * MINI.output) / 1_000_000);

const chat = (key: string, body: Json) => api(key, "/v1/chat/completions", { body: { model: "gpt-4o-mini", ...body } });
const user = (content: string) => [{ role: "user", content }];

async function ledger(tenantId: string): Promise<Json[]> {
  return (await json(await admin(`/admin/v1/tenants/${tenantId}/ledger`))).entries;
}

async function audited(tenantId: string) {
  const audit = await ledgerObject(tenantId).totalsCheck();
  expect(audit.ok, JSON.stringify(audit)).toBe(true);
}

const events = sseData;

describe("plain chat", () => {
  it("forwards the body untouched with the upstream key and settles from usage", async () => {
    const { key, tenantId } = await tenantWithKey();
    const n = nonce();
    const sent = JSON.stringify({ model: "gpt-4o-mini", messages: user(`hello ${n}`), temperature: 0.2, user: "u-1", metadata: { any: "thing" } });
    const res = await api(key, "/v1/chat/completions", { body: sent });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.choices[0].message.content).toBe(`Simulated reply to: hello ${n}`);
    expect(body.usage).toEqual({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });

    const [upstream] = await simRequests(n);
    expect(upstream!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(upstream!.body).toBe(sent);
    expect(JSON.stringify(upstream!.headers)).not.toContain(key);

    const entries = (await ledger(tenantId)).filter((e) => e.model === "gpt-4o-mini");
    expect(entries.map((e) => e.type)).toEqual(["reserve", "settle"]);
    expect(entries[1]!.amount_micros).toBe(miniCost(2, 5));
    expect(entries[1]!.reserved_micros).toBe(entries[0]!.amount_micros);
    expect(entries[0]!.amount_micros).toBeGreaterThan(entries[1]!.amount_micros);
    expect(res.headers.get("X-Charged-Usd")).toBe(`0.${String(miniCost(2, 5)).padStart(6, "0")}`);
    expect((await tenantBudget(key)).reserved_usd).toBe(0);
    await audited(tenantId);
  });

  it("lists the chat models, public but refusing a wrong key", async () => {
    const { key } = await tenantWithKey();
    const body = await json(await api(key, "/v1/models"));
    expect(body.object).toBe("list");
    expect(body.data.map((m: Json) => m.id)).toContain("gpt-4o-mini");
    // Public like RunAPI's (its MCP servers call it without a key), but a wrong key is still a 401.
    const open = await proxy("/v1/models");
    expect(open.status).toBe(200);
    expect((await json(open)).data.length).toBe(body.data.length);
    expect(
      (await expectError(await proxy("/v1/models", { headers: { Authorization: "Bearer sk_wrong_wrong_wrong_wrong_wrong" } }), 401, "unauthorized")) as Json,
    ).toMatchObject({ type: "authentication_error" });
  });

  it("answers OpenAI-style errors: the proxy's error plus type", async () => {
    const missing = await proxy("/v1/chat/completions", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    const error = await expectError(missing, 401, "unauthorized");
    expect(error).toMatchObject({ type: "authentication_error" });
    const { key } = await tenantWithKey();
    const n = nonce();
    const unknown = await expectError(await chat(key, { model: "no-such-model", messages: user(n) }), 400, "invalid_request");
    expect(unknown).toMatchObject({ type: "invalid_request_error", details: { issues: [{ field: "model" }] } });
    expect(await simRequests(n)).toHaveLength(0);
    const bad = await expectError(await chat(key, { messages: [], max_tokens: -1 }), 400, "invalid_request");
    expect(bad.details.issues.map((i: Json) => i.field)).toEqual(["messages", "max_tokens"]);
  });

  it("releases the reservation when the upstream fails, and says so OpenAI-style", async () => {
    const { key, tenantId } = await tenantWithKey();
    const error = await expectError(await chat(key, { messages: user(`boom ${nonce()} [sim:500]`) }), 502, "upstream_error");
    expect(error).toMatchObject({ type: "server_error" });
    expect((await ledger(tenantId)).map((e) => e.type)).toEqual(["reserve", "release"]);
    expect((await tenantBudget(key)).reserved_usd).toBe(0);
    await audited(tenantId);
  });
});

describe("budgets", () => {
  it("refuses an over-budget chat with 402 and never forwards it", async () => {
    const { key, tenantId } = await tenantWithKey({ budget: { limit_usd: 0.01, period: "day" } });
    const n = nonce();
    // gpt-4o's default output cap (16 384 tokens at $10/1M) alone is $0.16.
    // On /v1, a 402 is OpenAI's insufficient_quota (what OpenAI clients and agents recognise); the proxy's code stays beside it.
    const error = await expectError(await chat(key, { model: "gpt-4o", messages: user(n) }), 402, "insufficient_quota");
    expect(error).toMatchObject({ type: "insufficient_quota", proxy_code: "budget_exceeded", details: { scope: "tenant" } });
    expect(await simRequests(n)).toHaveLength(0);
    expect(await ledger(tenantId)).toEqual([]);
    // With a small max_tokens it fits.
    expect((await chat(key, { model: "gpt-4o", max_tokens: 50, messages: user(n) })).status).toBe(200);
    expect(await simRequests(n)).toHaveLength(1);
  });

  it("reserves for every one of n choices", async () => {
    // 1 000 output tokens at $10/1M = $0.01 per choice (plus the input bound): one fits $0.02, three do not.
    const { key } = await tenantWithKey({ budget: { limit_usd: 0.02, period: "day" } });
    const n = nonce();
    await expectError(await chat(key, { model: "gpt-4o", max_tokens: 1000, n: 3, messages: user(n) }), 402, "insufficient_quota");
    expect(await simRequests(n)).toHaveLength(0);
    expect((await chat(key, { model: "gpt-4o", max_tokens: 1000, n: 1, messages: user(n) })).status).toBe(200);
  });

  it("never overspends under a 50-way concurrent burst against a tight budget", async () => {
    const limit = 0.003;
    const { key, tenantId } = await tenantWithKey({ budget: { limit_usd: limit, period: "day" } });
    const n = nonce();
    // Each reserves ~$0.0007 (1 000 output tokens at $0.60/1M plus its bytes), so only a few fit at a time.
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => chat(key, { max_tokens: 1000, messages: user(`burst ${i} ${n}`) })));
    const statuses = results.map((r) => r.status);
    const ok = statuses.filter((s) => s === 200).length;
    expect(ok).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200).every((s) => s === 402)).toBe(true);
    expect(ok).toBeLessThan(50);
    for (const r of results) await r.body?.cancel();
    // The simulator saw exactly the forwarded ones.
    expect(await simRequests(n)).toHaveLength(ok);
    // Each answer went out with its charge fixed; the settlements reach the ledger gathered, just after.
    const budget = await eventually(async () => {
      const b = await tenantBudget(key);
      expect(b.reserved_usd).toBe(0);
      return b;
    });
    expect(budget.spent_usd).toBeLessThanOrEqual(limit);
    const settled = (await ledger(tenantId)).filter((e) => e.type === "settle");
    expect(settled).toHaveLength(ok);
    await audited(tenantId);
  });
});

describe("browser credentials", () => {
  it("a publishable key chats under its own budget, and its 402 hides the tenant's figures", async () => {
    const { tenantId } = await tenantWithKey({ budget: { limit_usd: 100, period: "month" } });
    const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://app.test"], budget: { limit_usd: 0.002, period: "day" } });
    const headers = { Origin: "https://app.test" };
    const ok = await api(pk.key, "/v1/chat/completions", { body: { model: "gpt-4o-mini", max_tokens: 100, messages: user(nonce()) }, headers });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.test");
    const refused = await expectError(
      await api(pk.key, "/v1/chat/completions", { body: { model: "gpt-4o", messages: user(nonce()) }, headers }),
      402,
      "insufficient_quota",
    );
    expect(refused.details).toMatchObject({ scope: "key" });
    const elsewhere = await api(pk.key, "/v1/chat/completions", {
      body: { model: "gpt-4o-mini", messages: user(nonce()) },
      headers: { Origin: "https://evil.test" },
    });
    expect((await expectError(elsewhere, 403, "forbidden")) as Json).toMatchObject({ type: "permission_error" });
  });

  it("an end-user token chats, budgeted per end user", async () => {
    const { key, tenantId } = await tenantWithKey({ end_user_budget: { limit_usd: 1, period: "day" } });
    const { token } = await json(await api(key, "/api/v1/end_user_tokens", { body: { sub: "user-42" } }));
    const res = await api(token, "/v1/chat/completions", { body: { model: "gpt-4o-mini", messages: user(nonce()) } });
    expect(res.status).toBe(200);
    const settle = (await ledger(tenantId)).find((e) => e.type === "settle");
    expect(settle).toMatchObject({ end_user: "user-42", model: "gpt-4o-mini" });
  });
});

describe("streamed chat", () => {
  it("relays the stream, asks upstream for usage and drops that chunk for a client that did not ask", async () => {
    const { key, tenantId } = await tenantWithKey();
    const n = nonce();
    const res = await chat(key, { stream: true, messages: user(`stream ${n}`) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const got = events(await res.text());
    expect(got.at(-1)).toBe("[DONE]");
    expect(got.some((e) => typeof e === "object" && e.usage)).toBe(false);
    const text = got
      .filter((e): e is Json => typeof e === "object")
      .map((e) => e.choices[0]?.delta?.content ?? "")
      .join("");
    expect(text).toBe(`Simulated reply to: stream ${n}`);

    const [upstream] = await simRequests(n);
    expect(JSON.parse(upstream!.body).stream_options).toEqual({ include_usage: true });
    const settle = (await ledger(tenantId)).find((e) => e.type === "settle");
    expect(settle).toMatchObject({ model: "gpt-4o-mini", amount_micros: miniCost(2, 5), reason: expect.stringContaining("from upstream usage") });
    await audited(tenantId);
  });

  it("keeps the usage chunk for a client that asked for it", async () => {
    const { key } = await tenantWithKey();
    const got = events(await (await chat(key, { stream: true, stream_options: { include_usage: true }, messages: user(`usage ${nonce()}`) })).text());
    expect(got.at(-2)).toMatchObject({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 5 } });
  });

  it("settles what was streamed when the upstream cuts the stream, and tells the client", async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await chat(key, { stream: true, messages: user(`one two three four five six seven eight ${nonce()} [sim:cut]`) });
    const got = events(await res.text());
    expect(got.at(-1)).toMatchObject({ error: { code: "upstream_error", type: "server_error" } });
    const entries = await ledger(tenantId);
    expect(entries.map((e) => e.type)).toEqual(["reserve", "settle"]);
    expect(entries[1]).toMatchObject({ reason: expect.stringContaining("estimated") });
    expect(entries[1]!.amount_micros).toBeGreaterThan(0);
    expect((await tenantBudget(key)).reserved_usd).toBe(0);
    await audited(tenantId);
  });

  it("settles what was streamed when the client goes away mid-stream, leaving no open reservation", async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await chat(key, { stream: true, messages: user(`a long answer is coming ${nonce()} [sim:drip=50]`) });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    const settle = await (async () => {
      for (let i = 0; i < 100; i++) {
        const found = (await ledger(tenantId)).find((e) => e.type === "settle");
        if (found) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      return undefined;
    })();
    expect(settle).toMatchObject({ reason: expect.stringContaining("client cancelled") });
    expect((await tenantBudget(key)).reserved_usd).toBe(0);
    await audited(tenantId);
  });
});

describe("chat prices", () => {
  it("come from the schedule with provenance, and a tenant pays them with its markup", async () => {
    const { key } = await tenantWithKey();
    const prices = (await json(await api(key, "/api/v1/prices"))).prices as Json[];
    expect(prices).toContainEqual(
      expect.objectContaining({
        service: "chat",
        model: "gpt-4o-mini",
        billing_strategy: "per_token",
        input_price_per_1m_cents: 15,
        output_price_per_1m_cents: 60,
        source: "provisional",
      }),
    );
    const marked = await tenantWithKey({ markup_percent: 100 });
    const doubled = (await json(await api(marked.key, "/api/v1/prices"))).prices as Json[];
    expect(doubled.find((p) => p.model === "gpt-4o-mini")).toMatchObject({ input_price_per_1m_cents: 30, output_price_per_1m_cents: 120 });
    const res = await chat(marked.key, { messages: user(`hello ${nonce()}`) });
    expect((await json(res)).usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 5 });
    expect(res.headers.get("X-Charged-Usd")).toBe(`0.${String(2 * miniCost(2, 5)).padStart(6, "0")}`);
    // The ledger records RunAPI's cost beside the tenant's price.
    const settle = (await ledger(marked.tenantId)).find((e) => e.type === "settle")!;
    expect(settle).toMatchObject({ amount_micros: 2 * miniCost(2, 5), cost_micros: miniCost(2, 5) });
  });

  it("reserves at most the model's output cap, whatever max_completion_tokens asks (Hermes sends 65 536 every turn)", async () => {
    // 65 536 output tokens of gpt-4o would reserve $0.66; its cap of 16 384 reserves $0.16 and fits a $0.50 budget.
    const { key } = await tenantWithKey({ budget: { limit_usd: 0.5, period: "day" } });
    const n = nonce();
    const res = await chat(key, { model: "gpt-4o", max_completion_tokens: 65_536, messages: user(n) });
    expect(res.status).toBe(200);
    expect(await simRequests(n)).toHaveLength(1);
  });
});
