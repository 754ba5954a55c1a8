import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { findAction } from "../../catalog/catalog";
import type { ScheduleIndex } from "../../domain/price-schedule";
import { priceView } from "../model-views";
import { jsonResult, MAX_WAIT_MS, toolError, usd, type ToolContext } from "./results";

/** An action's prices as one short line per model (in the caller's terms), for tool descriptions. */
function priceLines(prices: ScheduleIndex, action: string): string {
  return (findAction("hailuo", action)?.models ?? [])
    .map((model) => {
      const p = priceView(prices.entry("hailuo", action, model));
      if (p.min_cents === null || p.max_cents === null) return `${model}: not available`;
      const high = p.max_cents === "quote" ? "quoted" : usd(p.max_cents);
      return `${model}: ${p.max_cents === p.min_cents ? high : `${usd(p.min_cents)}–${high}`}`;
    })
    .join("; ");
}

const common = {
  prompt: z.string().describe("What the video shows (≤ 1500 characters on 02 models, ≤ 5000 on 2.3)."),
  duration_seconds: z.union([z.number(), z.string()]).optional().describe("6 or 10 seconds, as the model allows."),
  prompt_optimizer: z.boolean().optional(),
  enable_safety_checker: z.boolean().optional(),
  callback_url: z.string().optional().describe("Your https webhook for the finished task (secret keys only)."),
  idempotency_key: z.string().optional().describe("Send the same key again to get the same task instead of a second charge."),
};

/** RunAPI's Hailuo MCP tools (SPEC §8): the create body's fields as arguments, each a call of `POST /api/v1/hailuo/…`. */
export function registerHailuoTools(server: McpServer, ctx: ToolContext): void {
  const create =
    (endpoint: string) =>
    async (args: Record<string, unknown>): Promise<CallToolResult> => {
      const { idempotency_key, ...body } = args;
      const res = await ctx.call("POST", `/api/v1/hailuo/${endpoint}`, body, typeof idempotency_key === "string" ? { "Idempotency-Key": idempotency_key } : {});
      if (res.status !== 200 && res.status !== 202) return toolError(res);
      return jsonResult({ ...res.body, next: `Call get_task with task_id ${res.body.id} (wait_seconds up to ${MAX_WAIT_MS / 1000}) to follow it.` });
    };
  const models = (action: string) => (findAction("hailuo", action)?.models ?? []).join(", ");

  server.registerTool(
    "text_to_video",
    {
      description: `Create a Hailuo text-to-video task (asynchronous; returns task_id). Prices per clip: ${priceLines(ctx.prices, "text_to_video")}. ${ctx.limits}`,
      inputSchema: {
        model: z
          .string()
          .default("hailuo-02-text-to-video-standard")
          .describe(`One of ${models("text_to_video")}`),
        ...common,
      },
    },
    create("text_to_video"),
  );

  server.registerTool(
    "image_to_video",
    {
      description: `Create a Hailuo image-to-video task from a first frame (asynchronous; returns task_id). Prices per clip: ${priceLines(ctx.prices, "image_to_video")}. ${ctx.limits}`,
      inputSchema: {
        model: z
          .string()
          .default("hailuo-02-image-to-video-standard")
          .describe(`One of ${models("image_to_video")}`),
        first_frame_image_url: z.string().describe("https URL of the first frame."),
        last_frame_image_url: z.string().optional().describe("https URL of the last frame (02 models only)."),
        output_resolution: z.string().optional().describe("512p, 768p or 1080p, as the model allows."),
        ...common,
      },
    },
    create("image_to_video"),
  );
}
