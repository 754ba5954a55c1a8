import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sseData } from "./helpers";

// The simulator's OpenAI-compatible chat, reached the way the proxy reaches it (the RUNAPI service binding).
const sim = (env as unknown as { RUNAPI: Fetcher }).RUNAPI;
const UPSTREAM_KEY = "sk-runapi-UPSTREAM-test-9f2c41d7e0";

type Json = Record<string, any>;

const chat = (body: Json) =>
  sim.fetch("https://runapi.test/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${UPSTREAM_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", ...body }),
  });

const user = (content: string) => [{ role: "user", content }];

/** The JSON payloads of a stream's `data:` events, `[DONE]` as the string. */
const events = async (res: Response) => sseData(await res.text());

describe("simulated chat completions", () => {
  it("reports usage with a plain answer, one token per word", async () => {
    const body = await (await chat({ messages: user("count these four") })).json<Json>();
    expect(body.usage).toEqual({ prompt_tokens: 3, completion_tokens: 6, total_tokens: 9 });
  });

  it("streams the usage chunk only when stream_options.include_usage is set", async () => {
    const without = await events(await chat({ stream: true, messages: user("no usage please") }));
    expect(without.some((e) => typeof e === "object" && e.usage)).toBe(false);
    const withUsage = await events(await chat({ stream: true, stream_options: { include_usage: true }, messages: user("usage please") }));
    const last = withUsage.at(-2) as Json;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
    expect(withUsage.at(-1)).toBe("[DONE]");
  });

  it("calls the first tool when tools are given, plain and streamed", async () => {
    const tools = [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: { query: { type: "string" } } } } }];
    const plain = await (await chat({ tools, messages: user("weather in Oslo") })).json<Json>();
    expect(plain.choices[0]).toMatchObject({
      finish_reason: "tool_calls",
      message: { content: null, tool_calls: [{ type: "function", function: { name: "lookup", arguments: '{"query":"weather in Oslo"}' } }] },
    });
    const streamed = (await events(await chat({ tools, stream: true, messages: user("weather in Oslo") }))).filter((e): e is Json => typeof e === "object");
    const args = streamed
      .flatMap((e) => e.choices[0]?.delta?.tool_calls ?? [])
      .map((t: Json) => t.function?.arguments ?? "")
      .join("");
    expect(args).toBe('{"query":"weather in Oslo"}');
    expect(streamed.at(-1)?.choices[0].finish_reason).toBe("tool_calls");
  });

  it("answers a tool result with text", async () => {
    const body = await (
      await chat({
        tools: [{ type: "function", function: { name: "lookup" } }],
        messages: [
          ...user("weather?"),
          { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: "{}" } }] },
          { role: "tool", tool_call_id: "call_1", content: "sunny" },
        ],
      })
    ).json<Json>();
    expect(body.choices[0].message.content).toBe("The tool said: sunny");
  });

  it("stops at max_tokens with finish_reason length", async () => {
    const body = await (await chat({ max_tokens: 2, messages: user("a long prompt indeed") })).json<Json>();
    expect(body.choices[0]).toMatchObject({ finish_reason: "length", message: { content: "Simulated reply " } });
    expect(body.usage.completion_tokens).toBe(2);
  });

  it("fails on [sim:500] and rate limits on [sim:429]", async () => {
    expect((await chat({ messages: user("boom [sim:500]") })).status).toBe(500);
    const limited = await chat({ messages: user("slow down [sim:429]") });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
  });

  it("cuts a stream half-way on [sim:cut]: some content, then an error instead of [DONE]", async () => {
    const res = await chat({ stream: true, stream_options: { include_usage: true }, messages: user("one two three four five six [sim:cut]") });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = "";
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          text += new TextDecoder().decode(value);
        }
      })(),
    ).rejects.toThrow();
    expect(text).toContain("Simulated");
    expect(text).not.toContain("[DONE]");
    expect(text).not.toContain('"usage":{');
  });

  it("rejects an unknown model with 400", async () => {
    expect((await chat({ model: "no-such-model", messages: user("hi") })).status).toBe(400);
  });
});
