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

async function run(parts: string[] | ReadableStream<Uint8Array>, opts: { drop?: boolean; fail?: boolean; maxEventBytes?: number } = {}) {
  let outcome: StreamOutcome | null = null;
  const out = meterSse(Array.isArray(parts) ? source(parts, opts.fail) : parts, {
    dropUsageChunk: opts.drop ?? true,
    maxEventBytes: opts.maxEventBytes ?? 1024 * 1024,
    cutEvent: (end) => `data: {"error":"${end === "too_large" ? "too large" : "cut"}"}\n\n`,
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

  it("relays an event that arrives in many tiny pieces in one pass over its text (linear time, not a rescan per piece)", { timeout: 30_000 }, async () => {
    // ~1 MiB in 4-byte pieces: 262 144 reads. Rescanning the growing event on each read is ~137 GB of work; one pass is 1 MiB.
    const event = chunk("x".repeat(1024 * 1024 - 200));
    const bytes = enc.encode(`${event}\n\ndata: [DONE]\n\n`);
    let offset = 0;
    const tiny = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (offset >= bytes.byteLength) return controller.close();
        // Pieces come off a network: now and then after a turn of the event loop (which lets the test's timeout fire).
        if (offset % 16_384 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
        controller.enqueue(bytes.subarray(offset, offset + 4));
        offset += 4;
      },
    });
    const { text, outcome } = await run(tiny);
    expect(text).toBe(`${event}\n\ndata: [DONE]\n\n`);
    expect(outcome).toMatchObject({ end: "done", outputBytes: 1024 * 1024 - 200 });
  });

  it("ends the stream at an event over the limit, without reading the rest of what the upstream sends", { timeout: 60_000 }, async () => {
    // 20 MB of data with no blank line: an endless event. The relay stops at the limit (here 64 KiB) and says so.
    const block = enc.encode(`data: ${"y".repeat(16 * 1024 - 6)}`);
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (sent >= 20 * 1024 * 1024) return controller.close();
          sent += block.byteLength;
          controller.enqueue(block);
        },
      },
      { highWaterMark: 0 },
    );
    const { text, outcome } = await run(endlessAfter(`${chunk("before")}\n\n`, endless), { maxEventBytes: 64 * 1024 });
    expect(text).toBe(`${chunk("before")}\n\ndata: {"error":"too large"}\n\n`);
    expect(outcome).toMatchObject({ end: "too_large", outputBytes: 6 });
    expect(sent).toBeLessThan(200 * 1024);
  });

  it("ends the stream at a complete event over the limit too", async () => {
    const { text, outcome } = await run([`${chunk("a")}\n\n${chunk("z".repeat(5000))}\n\ndata: [DONE]\n\n`], { maxEventBytes: 1000 });
    expect(text).toBe(`${chunk("a")}\n\ndata: {"error":"too large"}\n\n`);
    expect(outcome).toMatchObject({ end: "too_large", outputBytes: 1 });
  });
});

/** `first`, then everything `rest` sends. */
function endlessAfter(first: string, rest: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = rest.getReader();
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          return controller.enqueue(enc.encode(first));
        }
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: () => reader.cancel(),
    },
    { highWaterMark: 0 },
  );
}
