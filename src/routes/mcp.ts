import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv, Bindings } from "../env";
import { findAction } from "../catalog/catalog";
import type { PriceSchedule } from "../catalog/types";
import { maxCents } from "../domain/price-schedule";
import { isBackend, tenantMarkup, type AuthContext } from "../domain/tenant";
import { AppError } from "../lib/errors";
import { activeMarkup, activeSchedule } from "../lib/price-store";
import { tenantAuth } from "../middleware/auth";
import { tenantSchedules } from "./price-views";

/** The app's own fetch, so every tool goes through the same HTTP routes (budgets, limits, idempotency) as any client. */
export type SelfFetch = (request: Request, env: Bindings, ctx: ExecutionContext) => Promise<Response>;

const MAX_WAIT_SECONDS = 100;
const POLL_MS = 1_000;
const TERMINAL = new Set(["completed", "failed", "expired"]);
/** Headers that carry the caller's identity into the in-process calls. */
const CREDENTIAL_HEADERS = ["authorization", "x-api-key", "origin", "x-end-user-id", "cf-connecting-ip", "x-request-id"];

const text = (value: unknown, isError = false): CallToolResult => ({
  content: [{ type: "text", text: typeof value === "string" ? value : JSON.stringify(value, null, 2) }],
  ...(isError ? { isError: true } : {}),
});

/** A proxy error as a tool error an agent can act on: code, message and each bad field. */
function toolError(
  status: number,
  body: { error?: { code?: string; message?: string; details?: { issues?: { field: string; message: string }[] } } },
): CallToolResult {
  const e = body.error ?? {};
  const fields = e.details?.issues?.map((i) => `${i.field}: ${i.message}`) ?? [];
  return text([`${e.code ?? `http_${status}`} (HTTP ${status}): ${e.message ?? "request failed"}`, ...fields].join("\n"), true);
}

/** An action's prices as one short line per model (cheapest to dearest, in the caller's terms), for tool descriptions. */
function priceLines(prices: PriceSchedule[], action: string): string {
  return prices
    .filter((p) => p.service === "hailuo" && p.action === action)
    .map((p) => {
      const values: number[] = [];
      const walk = (v: unknown): void => {
        if (typeof v === "number") values.push(v);
        else if (v && typeof v === "object") for (const x of Object.values(v)) walk(x);
      };
      walk((p.billing_config as { overrides?: unknown; matrix?: unknown } | null)?.overrides);
      walk((p.billing_config as { overrides?: unknown; matrix?: unknown } | null)?.matrix);
      const low = values.length ? Math.min(...values) : (p.unit_price_cents ?? 0);
      const high = maxCents(p) ?? low;
      const usd = (cents: number) => `$${(cents / 100).toFixed(2)}`;
      return `${p.model}: ${low === high ? usd(high) : `${usd(low)}–${usd(high)}`}`;
    })
    .join("; ");
}

/** A Hailuo action's models, for tool descriptions. */
function hailuoModels(action: string): string {
  return (findAction("hailuo", action)?.models ?? []).join(", ");
}

function limitsLine(auth: AuthContext): string {
  if (!isBackend(auth)) return "Each request is reserved against your budget before it is sent; over budget is refused with budget_exceeded (call get_budget).";
  const { max_concurrent_tasks: tasks, requests_per_minute: rpm } = auth.tenant.limits;
  return `Each request is reserved against your budget before it is sent and refused with budget_exceeded when it does not fit (call get_budget). Limits: ${tasks ?? "no"} unfinished tasks at once, ${rpm ?? "no limit of"} requests per minute.`;
}

const common = {
  prompt: z.string().describe("What the video shows (≤ 1500 characters on 02 models, ≤ 5000 on 2.3)."),
  duration_seconds: z.union([z.number(), z.string()]).optional().describe("6 or 10 seconds, as the model allows."),
  prompt_optimizer: z.boolean().optional(),
  enable_safety_checker: z.boolean().optional(),
  callback_url: z.string().optional().describe("Your https webhook for the finished task (secret keys only)."),
  idempotency_key: z.string().optional().describe("Send the same key again to get the same task instead of a second charge."),
};

/** Builds the MCP server for one request: the caller's tools, each a call of the proxy's own HTTP API as that caller. */
async function buildServer(
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of the proxy's own API, read field by field by the tools
  call: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: any }>,
  env: Bindings,
  auth: AuthContext,
): Promise<McpServer> {
  const [active, markup] = await Promise.all([activeSchedule(env.TENANTS), activeMarkup(env.TENANTS)]);
  const prices = tenantSchedules(active, markup, tenantMarkup(auth.tenant));
  const server = new McpServer({ name: "runapi-edge-proxy-hailuo", version: "0.1.0" }, { capabilities: { tools: {}, logging: {} } });
  const limits = limitsLine(auth);

  const create =
    (endpoint: string) =>
    async (args: Record<string, unknown>): Promise<CallToolResult> => {
      const { idempotency_key, ...body } = args;
      const res = await call("POST", `/api/v1/hailuo/${endpoint}`, body, typeof idempotency_key === "string" ? { "Idempotency-Key": idempotency_key } : {});
      if (res.status !== 200) return toolError(res.status, res.body);
      return text({ ...res.body, next: `Call get_task with task_id ${res.body.id} (wait_seconds up to ${MAX_WAIT_SECONDS}) to follow it.` });
    };

  server.registerTool(
    "text_to_video",
    {
      description: `Create a Hailuo text-to-video task (asynchronous; returns task_id). Prices per clip: ${priceLines(prices, "text_to_video")}. ${limits}`,
      inputSchema: {
        model: z
          .string()
          .default("hailuo-02-text-to-video-standard")
          .describe(`One of ${hailuoModels("text_to_video")}`),
        ...common,
      },
    },
    create("text_to_video"),
  );

  server.registerTool(
    "image_to_video",
    {
      description: `Create a Hailuo image-to-video task from a first frame (asynchronous; returns task_id). Prices per clip: ${priceLines(prices, "image_to_video")}. ${limits}`,
      inputSchema: {
        model: z
          .string()
          .default("hailuo-02-image-to-video-standard")
          .describe(`One of ${hailuoModels("image_to_video")}`),
        first_frame_image_url: z.string().describe("https URL of the first frame."),
        last_frame_image_url: z.string().optional().describe("https URL of the last frame (02 models only)."),
        output_resolution: z.string().optional().describe("512p, 768p or 1080p, as the model allows."),
        ...common,
      },
    },
    create("image_to_video"),
  );

  server.registerTool(
    "get_task",
    {
      description: `Read a task. With wait_seconds (≤ ${MAX_WAIT_SECONDS}) waits until it is completed or failed, reporting progress meanwhile.`,
      inputSchema: { task_id: z.string(), wait_seconds: z.number().optional() },
    },
    async ({ task_id, wait_seconds }, extra) => {
      if (wait_seconds !== undefined && !(wait_seconds >= 0 && wait_seconds <= MAX_WAIT_SECONDS)) {
        return text(`invalid_request: wait_seconds: must be between 0 and ${MAX_WAIT_SECONDS}`, true);
      }
      const deadline = Date.now() + (wait_seconds ?? 0) * 1000;
      const started = Date.now();
      const token = extra._meta?.progressToken;
      for (let step = 0; ; step++) {
        const res = await call("GET", `/api/v1/tasks/${encodeURIComponent(task_id)}`);
        if (res.status !== 200) return toolError(res.status, res.body);
        if (TERMINAL.has(res.body.status) || Date.now() >= deadline || extra.signal.aborted) return text(res.body);
        if (token !== undefined) {
          await extra.sendNotification({
            method: "notifications/progress",
            params: {
              progressToken: token,
              progress: step + 1,
              total: Math.ceil(((wait_seconds ?? 0) * 1000) / POLL_MS) + 1,
              message: `Task ${task_id} is ${res.body.status} after ${Math.round((Date.now() - started) / 1000)} s`,
            },
          });
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
      }
    },
  );

  server.registerTool(
    "check_pricing",
    {
      description:
        "Prices of every model (video per clip, chat per 1M tokens) with provenance; with model (and duration_seconds / output_resolution) also the exact price of that request and whether it fits your budget. Costs nothing.",
      inputSchema: { model: z.string().optional(), duration_seconds: z.union([z.number(), z.string()]).optional(), output_resolution: z.string().optional() },
    },
    async (args) => {
      if (!args.model) return text((await call("GET", "/api/v1/prices")).body);
      const body: Record<string, unknown> = { prompt: "price check", ...args };
      if (args.model.includes("image-to-video")) body.first_frame_image_url = "https://price-check.invalid/frame.png";
      const res = await call("POST", "/api/v1/estimate", body);
      return res.status === 200 ? text(res.body) : toolError(res.status, res.body);
    },
  );

  server.registerTool(
    "get_budget",
    {
      description:
        "What you may still spend: each budget you can see (limit, spent, reserved, remaining, when it resets) and RunAPI-style balance in cents. Costs nothing.",
      inputSchema: {},
    },
    async () => {
      const [me, balance] = await Promise.all([call("GET", "/api/v1/me"), call("GET", "/api/v1/me/balance")]);
      if (me.status !== 200) return toolError(me.status, me.body);
      return text({ budgets: me.body.budgets, limits: me.body.limits, balance: balance.body });
    },
  );
  return server;
}

/** A remote MCP server (Streamable HTTP, stateless) for agents such as Hermes: the tenant key as bearer (SPEC §8). */
export function mcp(selfFetch: SelfFetch) {
  return new Hono<AppEnv>()
    .use(tenantAuth)
    .post("/", async (c) => {
      const headers = new Headers();
      for (const name of CREDENTIAL_HEADERS) {
        const value = c.req.header(name);
        if (value) headers.set(name, value);
      }
      const origin = new URL(c.req.url).origin;
      const call = async (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) => {
        const h = new Headers(headers);
        for (const [k, v] of Object.entries(extra)) h.set(k, v);
        if (body !== undefined) h.set("content-type", "application/json");
        const res = await selfFetch(
          new Request(`${origin}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) }),
          c.env,
          c.executionCtx,
        );
        // biome-ignore lint/suspicious/noExplicitAny: see buildServer
        return { status: res.status, body: (await res.json().catch(() => ({}))) as any };
      };
      const server = await buildServer(call, c.env, c.var.auth);
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      await server.connect(transport);
      return transport.handleRequest(c.req.raw);
    })
    .all("/", () => {
      throw new AppError("method_not_allowed", "This MCP server is stateless: send JSON-RPC with POST", undefined, { Allow: "POST" });
    });
}
