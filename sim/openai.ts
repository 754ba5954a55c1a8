import { Hono } from "hono";
import { z } from "zod";
import { readJson, SimError, simConfig, type SimApp } from "./env";
import { actionsOf } from "../src/catalog/catalog";

/** Chat models the simulator answers for. */
export const CHAT_MODELS = ["gpt-4o-mini", "gpt-4o"] as const;

const CREATED = 1_735_689_600; // 2025-01-01, fixed so answers are deterministic

/** The media models `/v1/models` lists beside the chat models: Hailuo's, as before the whole catalog. */
const LISTED_MEDIA_MODELS = actionsOf("hailuo").flatMap((a) => a.models);

const Part = z.object({ type: z.string(), text: z.string().optional() }).loose();
const Message = z.object({ role: z.string(), content: z.union([z.string(), z.array(Part), z.null()]).optional() }).loose();
const Tool = z.object({ type: z.literal("function"), function: z.object({ name: z.string().min(1) }).loose() }).loose();
const ChatSchema = z
  .object({
    model: z.enum(CHAT_MODELS),
    messages: z.array(Message).min(1),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullish(),
    max_tokens: z.number().int().positive().optional(),
    max_completion_tokens: z.number().int().positive().optional(),
    tools: z.array(Tool).optional(),
    tool_choice: z.unknown().optional(),
  })
  .loose();

type ChatRequest = z.infer<typeof ChatSchema>;

const textOf = (content: ChatRequest["messages"][number]["content"]): string =>
  typeof content === "string" ? content : (content ?? []).map((p) => p.text ?? "").join("");

/** The simulator's tokenizer: one token per whitespace-separated word. */
export const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;

/** Faults asked for in the last user message: `[sim:500]`, `[sim:429]`, `[sim:cut]`, `[sim:slow]`, `[sim:drip=MS]`. */
export function chatMarkers(text: string) {
  return {
    status500: text.includes("[sim:500]"),
    status429: text.includes("[sim:429]"),
    cut: text.includes("[sim:cut]"),
    slow: text.includes("[sim:slow]"),
    dripMs: Number(text.match(/\[sim:drip=(\d{1,5})\]/)?.[1] ?? 0),
  };
}

const lastUser = (request: ChatRequest) => [...request.messages].reverse().find((m) => m.role === "user");

/** The deterministic answer: an echo of the last user message (after a tool result: what the tool said). */
export function chatReply(request: ChatRequest): string {
  const last = request.messages.at(-1);
  if (last?.role === "tool") return `The tool said: ${textOf(last.content)}`;
  const user = lastUser(request);
  return `Simulated reply to: ${user ? textOf(user.content) : ""}`;
}

/** A call of the first tool when tools are offered (and not refused), unless the conversation already has a tool result. */
function toolCall(request: ChatRequest): { id: string; name: string; arguments: string } | null {
  const tool = request.tools?.[0];
  if (!tool || request.tool_choice === "none" || request.messages.at(-1)?.role === "tool") return null;
  const user = lastUser(request);
  return {
    id: `call_${crypto.randomUUID().replace(/-/g, "").slice(0, 24)}`,
    name: tool.function.name,
    arguments: JSON.stringify({ query: user ? textOf(user.content) : "" }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** RunAPI's OpenAI-compatible routes: model list and chat completions (plain or streamed, with tools and usage). */
export const openai = new Hono<SimApp>()
  .get("/models", (c) =>
    c.json({
      object: "list",
      data: [...LISTED_MEDIA_MODELS, ...CHAT_MODELS].map((id) => ({ id, object: "model", created: CREATED, owned_by: "runapi" })),
    }),
  )
  .post("/chat/completions", async (c) => {
    const parsed = ChatSchema.safeParse(await readJson(c));
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
      throw new SimError(400, "invalid_request", message);
    }
    const request = parsed.data;
    const user = lastUser(request);
    const markers = chatMarkers(user ? textOf(user.content) : "");
    if (markers.slow) await sleep(simConfig(c.env).slowMs);
    if (markers.status500) throw new SimError(500, "internal_error", "Simulated upstream failure");
    if (markers.status429) throw new SimError(429, "rate_limited", "Simulated rate limit", { "Retry-After": "7" });

    const call = toolCall(request);
    const cap = request.max_completion_tokens ?? request.max_tokens;
    let pieces: string[] = call ? [] : (chatReply(request).match(/\S+\s*/g) ?? []);
    const truncated = cap !== undefined && pieces.length > cap;
    if (truncated) pieces = pieces.slice(0, cap);
    const content = pieces.join("");
    const finish = call ? "tool_calls" : truncated ? "length" : "stop";
    const id = `chatcmpl-${crypto.randomUUID().replace(/-/g, "")}`;
    const created = Math.floor(Date.now() / 1000);
    const promptTokens = request.messages.reduce((n, m) => n + words(textOf(m.content)), 0);
    const completionTokens = call ? words(call.arguments) + 1 : pieces.length;
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    const toolCalls = call ? [{ id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } }] : undefined;

    if (!request.stream) {
      return c.json({
        id,
        object: "chat.completion",
        created,
        model: request.model,
        choices: [
          { index: 0, message: { role: "assistant", content: call ? null : content, ...(toolCalls ? { tool_calls: toolCalls } : {}) }, finish_reason: finish },
        ],
        usage,
      });
    }

    // Streamed: one event per word (or per slice of tool arguments), written as produced.
    const withUsage = request.stream_options?.include_usage === true;
    const event = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: request.model, choices, ...(withUsage ? { usage: null } : {}), ...extra })}\n\n`;
    const delta = (d: Record<string, unknown>, finishReason: string | null = null) => event([{ index: 0, delta: d, finish_reason: finishReason }]);
    const events: string[] = [delta({ role: "assistant", content: call ? null : "" })];
    if (call) {
      events.push(delta({ tool_calls: [{ index: 0, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }));
      for (const slice of call.arguments.match(/.{1,8}/gs) ?? []) events.push(delta({ tool_calls: [{ index: 0, function: { arguments: slice } }] }));
    } else {
      for (const piece of pieces) events.push(delta({ content: piece }));
    }
    events.push(delta({}, finish));
    if (withUsage) events.push(event([], { usage }));
    events.push("data: [DONE]\n\n");
    // [sim:cut]: the connection drops half-way through (no finish, no usage, no [DONE]).
    const cutAt = markers.cut ? Math.max(2, Math.floor(events.length / 2)) : -1;

    const encoder = new TextEncoder();
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (i === cutAt) return controller.error(new Error("simulated connection cut"));
        if (i >= events.length) return controller.close();
        if (i > 0 && markers.dripMs) await sleep(markers.dripMs);
        controller.enqueue(encoder.encode(events[i++]));
      },
    });
    return new Response(body, { headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache" } });
  });
