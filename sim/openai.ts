import { Hono } from "hono";
import { z } from "zod";
import { readJson, SimError, type SimApp } from "./env";
import { SIM_PRICES } from "./quotes";

/** Chat models the simulator answers for. */
export const CHAT_MODELS = ["gpt-4o-mini", "gpt-4o"] as const;

const CREATED = 1_735_689_600; // 2025-01-01, fixed so answers are deterministic

const Part = z.object({ type: z.string(), text: z.string().optional() }).loose();
const ChatSchema = z
  .object({
    model: z.enum(CHAT_MODELS),
    messages: z
      .array(z.object({ role: z.string(), content: z.union([z.string(), z.array(Part), z.null()]) }).loose())
      .min(1),
    stream: z.boolean().optional(),
  })
  .loose();

type ChatRequest = z.infer<typeof ChatSchema>;

const textOf = (content: ChatRequest["messages"][number]["content"]): string =>
  typeof content === "string" ? content : (content ?? []).map((p) => p.text ?? "").join("");

const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;

/** The deterministic answer: an echo of the last user message. */
export function chatReply(request: ChatRequest): string {
  const last = [...request.messages].reverse().find((m) => m.role === "user");
  return `Simulated reply to: ${last ? textOf(last.content) : ""}`;
}

/** RunAPI's OpenAI-compatible routes: model list and chat completions (plain or streamed). */
export const openai = new Hono<SimApp>()
  .get("/models", (c) =>
    c.json({
      object: "list",
      data: [...Object.keys(SIM_PRICES), ...CHAT_MODELS].map((id) => ({ id, object: "model", created: CREATED, owned_by: "runapi" })),
    }),
  )
  .post("/chat/completions", async (c) => {
    const parsed = ChatSchema.safeParse(await readJson(c));
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
      throw new SimError(400, "invalid_request", message);
    }
    const request = parsed.data;
    const content = chatReply(request);
    const id = `chatcmpl-${crypto.randomUUID().replace(/-/g, "")}`;
    const created = Math.floor(Date.now() / 1000);
    const promptTokens = request.messages.reduce((n, m) => n + words(textOf(m.content)), 0);
    const usage = { prompt_tokens: promptTokens, completion_tokens: words(content), total_tokens: promptTokens + words(content) };
    if (!request.stream) {
      return c.json({
        id, object: "chat.completion", created, model: request.model,
        choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
        usage,
      });
    }
    const chunk = (delta: Record<string, string>, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: request.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const pieces = content.match(/\S+\s*/g) ?? [];
    const events = [chunk({ role: "assistant", content: "" }, null), ...pieces.map((p) => chunk({ content: p }, null)), chunk({}, "stop"), "data: [DONE]\n\n"];
    return c.body(events.join(""), 200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache" });
  });
