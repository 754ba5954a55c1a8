import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { Hono } from "hono";
import { indexSchedule } from "../../domain/price-schedule";
import { isBackend, tenantMarkup, type AuthContext } from "../../domain/tenant";
import type { AppEnv, Bindings } from "../../env";
import { AppError } from "../../lib/errors";
import { activeMarkup, activeSchedule } from "../../lib/price-store";
import { tenantAuth } from "../../middleware/auth";
import { tenantSchedules } from "../price-views";
import { registerCatalogTools } from "./catalog-tools";
import { registerHailuoTools } from "./hailuo-tools";
import type { ProxyCall, ToolContext } from "./results";
import { registerTaskTools } from "./task-tools";

/** The app's own fetch, so every tool goes through the same HTTP routes (budgets, limits, idempotency) as any client. */
export type SelfFetch = (request: Request, env: Bindings, ctx: ExecutionContext) => Promise<Response>;

/** Headers that carry the caller's identity into the in-process calls. */
const CREDENTIAL_HEADERS = ["authorization", "x-api-key", "origin", "x-end-user-id", "cf-connecting-ip", "x-request-id"];

const INSTRUCTIONS =
  "RunAPI's media catalog (video, image, audio) behind a budgeted proxy. Choose with list_models or list_actions, " +
  "inspect with get_model_info, price with check_pricing, run with create_task (one idempotency_key per logical task), " +
  "follow with get_task, and watch your spend with check_balance or get_budget. Every create is reserved against your budget first.";

/** The caller's limits, in a line for tool descriptions. */
function limitsLine(auth: AuthContext): string {
  if (!isBackend(auth)) return "Each request is reserved against your budget before it is sent; over budget is refused with budget_exceeded (call get_budget).";
  const { max_concurrent_tasks: tasks, requests_per_minute: rpm } = auth.tenant.limits;
  const limits = [tasks === null ? null : `${tasks} unfinished tasks at once`, rpm === null ? null : `${rpm} requests per minute`].filter(Boolean);
  return `Each request is reserved against your budget before it is sent and refused with budget_exceeded when it does not fit (call get_budget).${limits.length ? ` Limits: ${limits.join(", ")}.` : ""}`;
}

/** Builds the MCP server for one request: the caller's tools, each a call of the proxy's own HTTP API as that caller. */
async function buildServer(call: ProxyCall, env: Bindings, auth: AuthContext): Promise<McpServer> {
  const [active, markup] = await Promise.all([activeSchedule(env.TENANTS), activeMarkup(env.TENANTS)]);
  const ctx: ToolContext = {
    call,
    prices: indexSchedule(tenantSchedules(active, markup, tenantMarkup(auth.tenant))),
    allowed: auth.tenant.allowed_models,
    limits: limitsLine(auth),
  };
  const server = new McpServer({ name: "runapi-edge-proxy", version: "0.2.0" }, { instructions: INSTRUCTIONS, capabilities: { tools: {}, logging: {} } });
  registerHailuoTools(server, ctx);
  registerCatalogTools(server, ctx);
  registerTaskTools(server, ctx);
  return server;
}

/** A remote MCP server (Streamable HTTP, stateless) for agents such as Hermes: the tenant key as bearer (SPEC §8, §12). */
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
      const call: ProxyCall = async (method, path, body, extra = {}) => {
        const h = new Headers(headers);
        for (const [k, v] of Object.entries(extra)) h.set(k, v);
        if (body !== undefined) h.set("content-type", "application/json");
        const res = await selfFetch(
          new Request(`${origin}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) }),
          c.env,
          c.executionCtx,
        );
        return { status: res.status, body: await res.json().catch(() => ({})) };
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
