import { parseUsage } from "../domain/chat-pricing";

/** How a metered chat stream ended, and what it showed of its cost. */
export interface StreamOutcome {
  /** Token counts from the upstream's final usage chunk, when it came. */
  usage: { input: number; output: number } | null;
  /** UTF-8 bytes of generated text seen (content, refusals, tool-call names and arguments). */
  outputBytes: number;
  /** done: `[DONE]` arrived · upstream_cut: the upstream ended or failed without it · client_cancelled: the client went away. */
  end: "done" | "upstream_cut" | "client_cancelled";
}

export interface MeterOptions {
  /** Drop the usage-only chunk (the proxy asked for it; the client did not). */
  dropUsageChunk: boolean;
  /** The event sent to the client when the upstream stream breaks, before closing. */
  cutEvent: () => string;
  /** Called exactly once, when the stream ends for any reason. */
  onEnd: (outcome: StreamOutcome) => Promise<void>;
}

const BOUNDARY = /\r\n\r\n|\n\n|\r\r/;
const encoder = new TextEncoder();
const utf8Bytes = (s: unknown) => (typeof s === "string" ? encoder.encode(s).byteLength : 0);

/**
 * Relays an OpenAI server-sent event stream event by event as it arrives (pulled by the client, so
 * nothing piles up), reading `usage` and counting generated text on the way.
 */
export function meterSse(upstream: ReadableStream<Uint8Array>, opts: MeterOptions): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let usage: StreamOutcome["usage"] = null;
  let outputBytes = 0;
  let sawDone = false;
  let ended: Promise<void> | null = null;
  const end = (how: StreamOutcome["end"]) => (ended ??= opts.onEnd({ usage, outputBytes, end: how }));

  /** One event's text → what to forward ("" to drop it). */
  const relay = (event: string): string => {
    const data = event
      .split(/\r\n|\n|\r/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
      .join("\n");
    if (data === "[DONE]") sawDone = true;
    else if (data) {
      const chunk = parseJson(data) as { usage?: unknown; choices?: unknown } | null;
      if (chunk && typeof chunk === "object") {
        const seen = parseUsage(chunk.usage);
        if (seen) usage = seen;
        const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
        for (const choice of choices) {
          const delta = (choice as { delta?: Record<string, unknown> } | null)?.delta;
          if (!delta) continue;
          outputBytes += utf8Bytes(delta.content) + utf8Bytes(delta.refusal);
          if (Array.isArray(delta.tool_calls)) {
            for (const call of delta.tool_calls as { function?: { name?: unknown; arguments?: unknown } }[]) {
              outputBytes += utf8Bytes(call?.function?.name) + utf8Bytes(call?.function?.arguments);
            }
          }
        }
        if (seen && choices.length === 0 && opts.dropUsageChunk) return "";
      }
    }
    return `${event}\n\n`;
  };

  /** Every complete event in the buffer, relayed; the incomplete tail stays. */
  const drain = (flush: boolean): string => {
    let out = "";
    for (let m = BOUNDARY.exec(buffer); m; m = BOUNDARY.exec(buffer)) {
      out += relay(buffer.slice(0, m.index));
      buffer = buffer.slice(m.index + m[0].length);
    }
    if (flush && buffer.trim()) out += relay(buffer);
    if (flush) buffer = "";
    return out;
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch {
            const rest = drain(true);
            if (rest) controller.enqueue(encoder.encode(rest));
            await end("upstream_cut");
            controller.enqueue(encoder.encode(opts.cutEvent()));
            return controller.close();
          }
          if (chunk.done) {
            const rest = drain(true) + decoder.decode();
            if (rest) controller.enqueue(encoder.encode(rest));
            await end(sawDone ? "done" : "upstream_cut");
            if (!sawDone) controller.enqueue(encoder.encode(opts.cutEvent()));
            return controller.close();
          }
          buffer += decoder.decode(chunk.value, { stream: true });
          const out = drain(false);
          if (out) return controller.enqueue(encoder.encode(out));
        }
      },
      async cancel() {
        await reader.cancel().catch(() => undefined);
        await end("client_cancelled");
      },
    },
    { highWaterMark: 0 },
  );
}

/** JSON, or null for text that is not (relayed untouched). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
