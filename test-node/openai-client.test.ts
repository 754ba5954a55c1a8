import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startProxy, UPSTREAM_KEY, type RunningProxy } from "./support/proxy";

// The `openai` package pointed at the proxy, as Hermes Agent's custom provider is: base URL = proxy /v1, key = a tenant key.

let proxy: RunningProxy;
beforeAll(async () => {
  proxy = await startProxy();
});
afterAll(() => proxy?.dispose());

const openai = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${proxy.base}/v1`, maxRetries: 0 });

type Recorded = { path: string; headers: Record<string, string>; body: string };
async function simRequests(marker: string): Promise<Recorded[]> {
  const res = await fetch(`${proxy.simBase}/__sim/requests?contains=${encodeURIComponent(marker)}`);
  return ((await res.json()) as { requests: Recorded[] }).requests;
}

async function tenantUsage(tenantId: string) {
  const usage = await proxy.admin("GET", `/admin/v1/tenants/${tenantId}/usage`);
  return usage.json as { budgets: { scope: string; spent_usd: number; reserved_usd: number; limit_usd: number }[] };
}

async function reservedUsd(tenantId: string): Promise<number> {
  return (await tenantUsage(tenantId)).budgets.find((b) => b.scope === "tenant")!.reserved_usd;
}

describe("openai package through the proxy", () => {
  test("lists and retrieves chat models, and answers a plain completion with the tenant key swapped for the upstream key", async () => {
    const { key } = await proxy.tenantWithKey();
    const client = openai(key);
    // Chat models only (media models are in /api/v1/models), one retrievable by id; a media model is OpenAI's 404.
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["gpt-4o", "gpt-4o-mini"]);
    expect(await client.models.retrieve("gpt-4o-mini")).toMatchObject({ id: "gpt-4o-mini", object: "model", owned_by: "runapi" });
    const missing = await client.models.retrieve("hailuo-02-text-to-video-standard").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).type).toBe("not_found_error");
    const marker = `plain-${crypto.randomUUID()}`;
    const completion = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: marker }], temperature: 0 });
    expect(completion.choices[0]!.message.content).toBe(`Simulated reply to: ${marker}`);
    expect(completion.usage).toMatchObject({ prompt_tokens: 1, completion_tokens: 4 });
    const [upstream] = await simRequests(marker);
    expect(upstream!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.parse(upstream!.body)).toMatchObject({ temperature: 0 });
  });

  test("streams a completion chunk by chunk; no usage chunk unless asked", async () => {
    const { key } = await proxy.tenantWithKey();
    const marker = `stream-${crypto.randomUUID()}`;
    const stream = await openai(key).chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: `tell me ${marker}` }],
    });
    let text = "";
    let chunks = 0;
    let sawUsage = false;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) sawUsage = true;
    }
    expect(text).toBe(`Simulated reply to: tell me ${marker}`);
    expect(chunks).toBeGreaterThan(3);
    expect(sawUsage).toBe(false);

    const withUsage = await openai(key).chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "count me" }],
    });
    let usage: unknown = null;
    for await (const chunk of withUsage) if (chunk.usage) usage = chunk.usage;
    expect(usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 5 });
  });

  test("relays each chunk as it arrives: the first one comes long before the stream ends", async () => {
    const { key } = await proxy.tenantWithKey();
    const started = Date.now();
    const stream = await openai(key).chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: "slowly now [sim:drip=250]" }],
    });
    const arrivals: number[] = [];
    for await (const _chunk of stream) arrivals.push(Date.now() - started);
    // 8 events 250 ms apart: a buffering proxy would deliver them all at the end.
    expect(arrivals.at(-1)!).toBeGreaterThan(1500);
    expect(arrivals[0]!).toBeLessThan(arrivals.at(-1)! - 1000);
  });

  test("passes tools through and returns the tool call, plain and streamed", async () => {
    const { key } = await proxy.tenantWithKey();
    const client = openai(key);
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather for a city",
          parameters: { type: "object", properties: { query: { type: "string" } }, required: ["query"] },
        },
      },
    ];
    const plain = await client.chat.completions.create({ model: "gpt-4o-mini", tools, messages: [{ role: "user", content: "Oslo" }] });
    const call = plain.choices[0]!.message.tool_calls![0]!;
    expect(plain.choices[0]!.finish_reason).toBe("tool_calls");
    expect(call.type === "function" && call.function).toMatchObject({ name: "get_weather", arguments: '{"query":"Oslo"}' });

    const answer = await client.chat.completions.create({
      model: "gpt-4o-mini",
      tools,
      messages: [{ role: "user", content: "Oslo" }, plain.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: "12 °C" }],
    });
    expect(answer.choices[0]!.message.content).toBe("The tool said: 12 °C");

    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", tools, stream: true, messages: [{ role: "user", content: "Bergen" }] });
    let args = "";
    for await (const chunk of stream) for (const t of chunk.choices[0]?.delta?.tool_calls ?? []) args += t.function?.arguments ?? "";
    expect(args).toBe('{"query":"Bergen"}');
  });

  test("an over-budget chat is a 402 the client sees as an APIError, and never reaches RunAPI", async () => {
    const { key } = await proxy.tenantWithKey({ budget: { limit_usd: 0.01, period: "day" } });
    const marker = `over-${crypto.randomUUID()}`;
    const err = await openai(key)
      .chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: marker }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe("insufficient_quota");
    expect((err as InstanceType<typeof OpenAI.APIError>).type).toBe("insufficient_quota");
    expect(await simRequests(marker)).toHaveLength(0);
  });

  test("Hermes' max_completion_tokens: 65536 on every turn fits a small budget: the reservation stops at the model's output cap", async () => {
    // 65 536 output tokens of gpt-4o would reserve $0.66 and refuse a $0.50 tenant; gpt-4o writes at most 16 384.
    const { key, tenantId } = await proxy.tenantWithKey({ budget: { limit_usd: 0.5, period: "day" } });
    const client = openai(key);
    for (let turn = 0; turn < 2; turn++) {
      const reply = await client.chat.completions.create({
        model: "gpt-4o",
        max_completion_tokens: 65_536,
        messages: [{ role: "user", content: `turn ${turn} hermes-${crypto.randomUUID()}` }],
      });
      expect(reply.choices[0]?.message.content).toMatch(/^Simulated reply to: turn/);
    }
    expect(await reservedUsd(tenantId)).toBe(0);
  });

  test("a stream the client abandons mid-way is settled and leaves no open reservation", async () => {
    const { key, tenantId } = await proxy.tenantWithKey();
    const stream = await openai(key).chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: "one two three four five six seven eight nine ten [sim:drip=100]" }],
    });
    let got = 0;
    for await (const _chunk of stream) if (++got === 3) break; // leaves the loop: the SDK aborts the request
    let reserved = -1;
    for (let i = 0; i < 50 && reserved !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      reserved = await reservedUsd(tenantId);
    }
    expect(reserved).toBe(0);
    const ledger = await proxy.admin("GET", `/admin/v1/tenants/${tenantId}/ledger`);
    const settle = (ledger.json.entries as { type: string; reason: string; model: string }[]).find((e) => e.type === "settle");
    expect(settle).toMatchObject({ model: "gpt-4o-mini", reason: expect.stringContaining("client cancelled") });
    const csv = await fetch(`${proxy.base}/admin/v1/tenants/${tenantId}/ledger?format=csv`, { headers: { Authorization: `Bearer ${proxy.adminToken}` } });
    expect(await csv.text()).toContain("gpt-4o-mini");
  });

  test("a stream the upstream cuts surfaces as an error to the client, settled from what was streamed", async () => {
    const { key, tenantId } = await proxy.tenantWithKey();
    const stream = await openai(key).chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: "alpha beta gamma delta epsilon [sim:cut]" }],
    });
    const consume = async () => {
      for await (const _chunk of stream) {
        // read until the error
      }
    };
    await expect(consume()).rejects.toThrow(/broke off/);
    expect(await reservedUsd(tenantId)).toBe(0);
  });
});
