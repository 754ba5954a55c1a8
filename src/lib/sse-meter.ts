import { parseUsage } from "../domain/chat-pricing";

/** How a metered chat stream ended, and what it showed of its cost. */
export interface StreamOutcome {
  /** Token counts from the upstream's final usage chunk, when it came. */
  usage: { input: number; output: number } | null;
  /** UTF-8 bytes of generated text seen (content, refusals, tool-call names and arguments). */
  outputBytes: number;
  /**
   * done: `[DONE]` arrived · upstream_cut: the upstream ended or failed without it · too_large: an event was
   * larger than allowed (the rest is not read) · client_cancelled: the client went away.
   */
  end: "done" | "upstream_cut" | "too_large" | "client_cancelled";
}

export interface MeterOptions {
  /** Drop the usage-only chunk (the proxy asked for it; the client did not). */
  dropUsageChunk: boolean;
  /** The largest event relayed (UTF-8 bytes); a larger one ends the stream (`too_large`). */
  maxEventBytes: number;
  /** The event sent to the client when the upstream stream breaks or sends too much, before closing. */
  cutEvent: (end: "upstream_cut" | "too_large") => string;
  /** Called exactly once, when the stream ends for any reason. */
  onEnd: (outcome: StreamOutcome) => Promise<void>;
}

const encoder = new TextEncoder();
const utf8Bytes = (s: unknown) => (typeof s === "string" ? encoder.encode(s).byteLength : 0);

/**
 * Relays an OpenAI server-sent event stream event by event as it arrives (pulled by the client, so
 * nothing piles up), reading `usage` and counting generated text on the way.
 */
export function meterSse(upstream: ReadableStream<Uint8Array>, opts: MeterOptions): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  const decoder = new TextDecoder();
  const events = new EventSplitter(opts.maxEventBytes);
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

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        /** Sends what is complete, then the end: `[DONE]` seen, or the cut event. */
        const finish = async (out: string, how: "upstream_cut" | "too_large" | null) => {
          if (out) controller.enqueue(encoder.encode(out));
          const outcome = how ?? (sawDone ? "done" : "upstream_cut");
          await end(outcome);
          if (outcome !== "done") controller.enqueue(encoder.encode(opts.cutEvent(outcome)));
          controller.close();
        };
        for (;;) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch {
            return finish(events.flush().map(relay).join(""), "upstream_cut");
          }
          const split = chunk.done ? events.push(decoder.decode()) : events.push(decoder.decode(chunk.value, { stream: true }));
          const out = split.events.map(relay).join("");
          if (split.tooLarge) {
            await reader.cancel().catch(() => undefined);
            return finish(out, "too_large");
          }
          if (chunk.done) return finish(out + events.flush().map(relay).join(""), null);
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

const BOUNDARY = /\r\n\r\n|\n\n|\r\r/g;

/**
 * Cuts server-sent-event text into events as it arrives, in time linear in its length: each new piece
 * is scanned once (with the three characters before it, where a boundary may begin), never the whole
 * incomplete event again. An event larger than `maxBytes` (UTF-8) stops it.
 */
class EventSplitter {
  /** The incomplete event, in the pieces it came in. */
  private pending: string[] = [];
  private pendingLength = 0;
  private pendingBytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The events that `text` completes; `tooLarge` once an event (complete or not) is over the limit, with the events before it. */
  push(text: string): { events: string[]; tooLarge: boolean } {
    const events: string[] = [];
    if (!text) return { events, tooLarge: false };
    const carry = this.pendingLength ? this.lastChars(3) : "";
    BOUNDARY.lastIndex = 0;
    const first = BOUNDARY.exec(carry + text);
    if (!first) {
      this.pending.push(text);
      this.pendingLength += text.length;
      this.pendingBytes += utf8Length(text);
      return { events, tooLarge: this.pendingBytes > this.maxBytes };
    }
    // The first event is what was pending plus the start of `text`; a boundary may begin in the pending tail.
    const held = this.pending.join("");
    const at = held.length - carry.length + first.index; // the boundary's start in held + text
    events.push(at <= held.length ? held.slice(0, at) : held + text.slice(0, at - held.length));
    let from = at + first[0].length - held.length; // where the rest begins in `text`
    BOUNDARY.lastIndex = from;
    for (let m = BOUNDARY.exec(text); m; m = BOUNDARY.exec(text)) {
      events.push(text.slice(from, m.index));
      from = m.index + m[0].length;
    }
    const rest = text.slice(from);
    this.pending = rest ? [rest] : [];
    this.pendingLength = rest.length;
    this.pendingBytes = utf8Length(rest);
    // Only the events before one over the limit are relayed (a length within a third of it needs no count).
    const over = events.findIndex((e) => e.length > this.maxBytes / 3 && utf8Length(e) > this.maxBytes);
    if (over >= 0) return { events: events.slice(0, over), tooLarge: true };
    return { events, tooLarge: this.pendingBytes > this.maxBytes };
  }

  /** What is left at the end of the stream, as a last event (none when blank). */
  flush(): string[] {
    const rest = this.pending.join("");
    this.pending = [];
    this.pendingLength = 0;
    this.pendingBytes = 0;
    return rest.trim() ? [rest] : [];
  }

  private lastChars(n: number): string {
    let out = "";
    for (let i = this.pending.length - 1; i >= 0 && out.length < n; i--) out = this.pending[i]! + out;
    return out.slice(-n);
  }
}

/** The UTF-8 length of a string, without encoding it. */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff)
      n += 1; // a surrogate pair: 4 bytes for two units
    else if (c >= 0x800) n += 2;
    else if (c >= 0x80) n += 1;
  }
  return n;
}

/** JSON, or null for text that is not (relayed untouched). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
