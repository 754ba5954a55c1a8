import { describe, expect, it } from "vitest";
import { meterSse, type StreamOutcome } from "../src/lib/sse-meter";

// The relay under real network conditions: events split across reads, CRLF separators, a usage chunk to drop.

const enc = new TextEncoder();

function source(parts: string[], failAfter = false): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < parts.length) return controller.enqueue(enc.encode(parts[i++]!));
      if (failAfter) return controller.error(new Error("reset"));
      controller.close();
    },
  });
}

async function run(parts: string[], opts: { drop?: boolean; fail?: boolean } = {}) {
  let outcome: StreamOutcome | null = null;
  const out = meterSse(source(parts, opts.fail), {
    dropUsageChunk: opts.drop ?? true,
    cutEvent: () => 'data: {"error":"cut"}\n\n',
    onEnd: async (o) => void (outcome = o),
  });
  const text = await new Response(out).text();
  return { text, outcome: outcome as StreamOutcome | null };
}

const chunk = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }], usage: null })}`;
const usage = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 9 } })}`;

describe("meterSse", () => {
  it("reassembles events split anywhere, keeps CRLF streams whole, and drops the usage chunk", async () => {
    const whole = `${chunk("héllo ")}\r\n\r\n${chunk("wörld")}\r\n\r\n${usage}\r\n\r\ndata: [DONE]\r\n\r\n`;
    const parts = whole.match(/[\s\S]{1,7}/g)!;
    const { text, outcome } = await run(parts);
    expect(text).toBe(`${chunk("héllo ")}\n\n${chunk("wörld")}\n\ndata: [DONE]\n\n`);
    expect(outcome).toEqual({ usage: { input: 3, output: 9 }, outputBytes: 13, end: "done" });
  });

  it("keeps the usage chunk when the client asked for it", async () => {
    const { text } = await run([`${chunk("a")}\n\n${usage}\n\ndata: [DONE]\n\n`], { drop: false });
    expect(text).toContain('"prompt_tokens":3');
  });

  it("reports a stream that ends without [DONE] or fails as cut, and tells the client", async () => {
    const ended = await run([`${chunk("partial")}\n\n`]);
    expect(ended.outcome).toMatchObject({ usage: null, outputBytes: 7, end: "upstream_cut" });
    expect(ended.text.endsWith('data: {"error":"cut"}\n\n')).toBe(true);
    const failed = await run([`${chunk("partial")}\n\n`, chunk("half an ev")], { fail: true });
    expect(failed.outcome).toMatchObject({ end: "upstream_cut" });
    expect(failed.text.endsWith('data: {"error":"cut"}\n\n')).toBe(true);
  });

  it("counts tool-call names and arguments as output", async () => {
    const call = `data: ${JSON.stringify({ choices: [{ delta: { tool_calls: [{ index: 0, function: { name: "f", arguments: '{"a":1}' } }] } }] })}`;
    const { outcome } = await run([`${call}\n\ndata: [DONE]\n\n`]);
    expect(outcome?.outputBytes).toBe(8);
  });
});
