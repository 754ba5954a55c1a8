import { z } from "zod";
import type { ErrorCode } from "../lib/errors";
import { AdjustmentInput, KeyCreate, TenantCreate, TenantPatch } from "../routes/admin-schemas";
import { ListQuery as TenantListQuery, LedgerQuery } from "../routes/admin";
import { SpendQuery, TenantTasksQuery } from "../routes/admin-insights";
import { TokenRequest } from "../routes/end-user-tokens";
import { ListQuery as TaskListQuery } from "../routes/tasks";
import * as S from "./schemas";

/** Who may call an operation: a tenant key, the operator's admin token, RunAPI's signed callback URL, or anyone. */
export type Auth = "tenant" | "admin" | "callback" | "none";
export type Method = "get" | "post" | "put" | "patch" | "delete";

/** One documented operation. Request schemas are the zod objects the route validates with. */
export interface Operation {
  method: Method;
  /** OpenAPI path: `{name}` for parameters. */
  path: string;
  summary: string;
  description?: string;
  tag: Tag;
  auth: Auth;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The success response (200 unless `status` says). `contentType` defaults to JSON. */
  response: { status?: number; description: string; schema?: z.ZodType; contentType?: string };
  /** Error codes this operation answers with besides those its auth and body imply. */
  errors?: ErrorCode[];
  /** Path parameter descriptions. */
  params?: Record<string, string>;
}

export const TAGS = {
  hailuo: "Hailuo (drop-in)",
  tasks: "Tasks",
  account: "Account and prices",
  openai: "OpenAI-compatible",
  mcp: "MCP",
  operator: "Operator",
  pages: "Pages",
  system: "System",
} as const;
type Tag = (typeof TAGS)[keyof typeof TAGS];

/** Names under `components.schemas` for schemas used by reference. */
export const NAMED_SCHEMAS = new Map<z.ZodType, string>([
  [S.ErrorBody, "Error"],
  [S.Task, "Task"],
  [S.Tenant, "Tenant"],
  [S.Key, "Key"],
  [S.ScopeState, "BudgetState"],
  [S.PriceTable, "PriceTable"],
  [TenantCreate, "TenantCreate"],
  [TenantPatch, "TenantPatch"],
  [KeyCreate, "KeyCreate"],
]);

const html = (description: string) => ({ description, contentType: "text/html" });
const createErrors: ErrorCode[] = [
  "budget_exceeded",
  "idempotency_conflict",
  "rate_limited",
  "upstream_error",
  "upstream_unavailable",
  "upstream_timeout",
  "service_unavailable",
];
const taskId = { id: "The proxy's task id (a UUID)" };
const tenantId = { id: "Tenant id" };

function hailuo(endpoint: "text_to_video" | "image_to_video"): Operation[] {
  return [
    {
      method: "post",
      path: `/api/v1/hailuo/${endpoint}`,
      summary: `Create a ${endpoint.replace(/_/g, " ")} task`,
      description:
        "RunAPI's own endpoint: validate → estimate → reserve against every budget → forward with the upstream key. Headers: `X-Estimated-Cost-Usd`, `X-Budget-Remaining-Usd`. " +
        "An `Idempotency-Key` (≤ 512 chars) replays the first answer for 24 h; another body with the same key is a 409.",
      tag: TAGS.hailuo,
      auth: "tenant",
      body: S.hailuoCreateBody(endpoint),
      response: { description: "The task was accepted", schema: S.CreateResponse },
      errors: createErrors,
    },
    {
      method: "get",
      path: `/api/v1/hailuo/${endpoint}/{id}`,
      summary: `Read a ${endpoint.replace(/_/g, " ")} task`,
      description: "From the tenant's own records, no upstream call. Another tenant's task is a 404.",
      tag: TAGS.hailuo,
      auth: "tenant",
      params: taskId,
      response: { description: "The task", schema: S.Task },
      errors: ["not_found"],
    },
  ];
}

/** Every route the app serves. Adding a route is one entry here (the coverage test fails until it is). */
export const OPERATIONS: Operation[] = [
  ...hailuo("text_to_video"),
  ...hailuo("image_to_video"),
  {
    method: "get",
    path: "/api/v1/tasks",
    summary: "List your tasks",
    description: "Newest first.",
    tag: TAGS.tasks,
    auth: "tenant",
    query: TaskListQuery,
    response: { description: "A page of tasks", schema: S.TaskList },
  },
  {
    method: "get",
    path: "/api/v1/tasks/{id}",
    summary: "Read a task",
    tag: TAGS.tasks,
    auth: "tenant",
    params: taskId,
    response: { description: "The task", schema: S.Task },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/api/v1/tasks/{id}/events",
    summary: "Follow a task live",
    description:
      "Server-sent events: the current state, then every change; closes after a terminal state. Browsers may pass a publishable key or end-user token as `?access_token=`.",
    tag: TAGS.tasks,
    auth: "tenant",
    params: taskId,
    response: { description: "An event stream of task states", schema: S.Task, contentType: "text/event-stream" },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/api/v1/me",
    summary: "Who am I: tenant, key, budgets, limits",
    tag: TAGS.account,
    auth: "tenant",
    response: { description: "The caller's account", schema: S.Me },
  },
  {
    method: "get",
    path: "/api/v1/prices",
    summary: "The active price table with provenance",
    tag: TAGS.account,
    auth: "tenant",
    response: { description: "Prices", schema: S.Prices },
  },
  {
    method: "post",
    path: "/api/v1/estimate",
    summary: "Price a create body without reserving anything",
    description: "The body is a create body; its endpoint follows from the model unless `?endpoint=` says.",
    tag: TAGS.account,
    auth: "tenant",
    query: z.object({ endpoint: z.enum(["text_to_video", "image_to_video"]).optional() }),
    body: S.hailuoCreateBody("image_to_video").or(S.hailuoCreateBody("text_to_video")),
    response: { description: "The estimate and whether it would exceed a budget", schema: S.Estimate },
  },
  {
    method: "post",
    path: "/api/v1/end_user_tokens",
    summary: "Mint a short-lived end-user token (secret keys only)",
    tag: TAGS.account,
    auth: "tenant",
    body: TokenRequest,
    response: { status: 201, description: "The token", schema: S.EndUserToken },
  },
  {
    method: "get",
    path: "/api/v1/me/balance",
    summary: "RunAPI's balance shape, from the caller's budget",
    tag: TAGS.account,
    auth: "tenant",
    response: { description: "Balance in cents", schema: S.Balance },
  },
  {
    method: "get",
    path: "/api/v1/price_schedules",
    summary: "RunAPI's price schedules, from the proxy's prices",
    tag: TAGS.account,
    auth: "tenant",
    response: { description: "Price schedules", schema: S.PriceSchedules },
  },
  {
    method: "post",
    path: "/api/v1/price_quotes",
    summary: "RunAPI's price quote, from the proxy's prices",
    tag: TAGS.account,
    auth: "tenant",
    body: S.PriceQuoteRequest,
    response: { description: "A quote", schema: S.PriceQuote },
  },
  {
    method: "get",
    path: "/v1/models",
    summary: "OpenAI-compatible model list",
    tag: TAGS.openai,
    auth: "tenant",
    response: { description: "Models", schema: S.Models },
    errors: ["upstream_error", "upstream_unavailable"],
  },
  {
    method: "post",
    path: "/v1/chat/completions",
    summary: "OpenAI-compatible chat (JSON or `stream: true` SSE), metered",
    description:
      "Every body field is passed through. An upper bound is reserved before forwarding and settled from the upstream's `usage`. Errors add OpenAI's `type`.",
    tag: TAGS.openai,
    auth: "tenant",
    body: S.ChatRequest,
    response: { description: "A chat completion (or `text/event-stream` chunks when streaming)", schema: S.ChatResponse },
    errors: ["budget_exceeded", "rate_limited", "upstream_error", "upstream_unavailable", "upstream_timeout"],
  },
  {
    method: "post",
    path: "/mcp",
    summary: "MCP Streamable HTTP: JSON-RPC requests",
    description: "Tools: text_to_video, image_to_video, get_task, check_pricing, get_budget.",
    tag: TAGS.mcp,
    auth: "tenant",
    body: S.JsonRpc,
    response: { description: "A JSON-RPC response, or an SSE stream of them", schema: S.JsonRpc },
  },
  {
    method: "get",
    path: "/mcp",
    summary: "MCP Streamable HTTP: server-to-client stream",
    tag: TAGS.mcp,
    auth: "tenant",
    response: { description: "An event stream (or 405 when the server offers none)", contentType: "text/event-stream" },
    errors: ["method_not_allowed"],
  },
  {
    method: "delete",
    path: "/mcp",
    summary: "MCP Streamable HTTP: end a session",
    tag: TAGS.mcp,
    auth: "tenant",
    response: { description: "Session ended" },
    errors: ["method_not_allowed"],
  },

  {
    method: "post",
    path: "/admin/v1/tenants",
    summary: "Create a tenant",
    tag: TAGS.operator,
    auth: "admin",
    body: TenantCreate,
    response: { status: 201, description: "The tenant, with its webhook signing secret", schema: S.TenantEnvelope },
    errors: ["conflict"],
  },
  {
    method: "get",
    path: "/admin/v1/tenants",
    summary: "List tenants",
    tag: TAGS.operator,
    auth: "admin",
    query: TenantListQuery,
    response: { description: "A page of tenants", schema: S.TenantPage },
  },
  {
    method: "get",
    path: "/admin/v1/tenants/{id}",
    summary: "Read a tenant",
    tag: TAGS.operator,
    auth: "admin",
    params: tenantId,
    response: { description: "The tenant", schema: S.TenantEnvelope },
    errors: ["not_found"],
  },
  {
    method: "patch",
    path: "/admin/v1/tenants/{id}",
    summary: "Change a tenant",
    tag: TAGS.operator,
    auth: "admin",
    params: tenantId,
    body: TenantPatch,
    response: { description: "The tenant", schema: S.TenantEnvelope },
    errors: ["not_found"],
  },
  {
    method: "delete",
    path: "/admin/v1/tenants/{id}",
    summary: "Disable a tenant",
    tag: TAGS.operator,
    auth: "admin",
    params: tenantId,
    response: { description: "The disabled tenant", schema: S.TenantEnvelope },
    errors: ["not_found"],
  },
  {
    method: "post",
    path: "/admin/v1/tenants/{id}/keys",
    summary: "Issue an API key",
    description: "The plaintext key appears in this response only.",
    tag: TAGS.operator,
    auth: "admin",
    params: tenantId,
    body: KeyCreate,
    response: { status: 201, description: "The key", schema: S.KeyCreated },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/admin/v1/tenants/{id}/keys",
    summary: "List a tenant's keys",
    tag: TAGS.operator,
    auth: "admin",
    params: tenantId,
    response: { description: "Keys (never plaintext, never hashes)", schema: S.KeyList },
    errors: ["not_found"],
  },
  {
    method: "delete",
    path: "/admin/v1/tenants/{id}/keys/{keyId}",
    summary: "Revoke a key",
    tag: TAGS.operator,
    auth: "admin",
    params: { ...tenantId, keyId: "Key id (key_…)" },
    response: { description: "The revoked key", schema: S.Key },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/admin/v1/tenants/{id}/usage",
    summary: "Budget state per scope",
    tag: TAGS.operator,
    auth: "admin",
    params: tenantId,
    response: { description: "Usage", schema: S.Usage },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/admin/v1/tenants/{id}/ledger",
    summary: "Export the ledger (JSON or CSV)",
    description: "Every reserve/settle/release/adjust entry. `format=csv` answers `text/csv` with `X-Next-Cursor` when there is more.",
    tag: TAGS.operator,
    auth: "admin",
    params: tenantId,
    query: LedgerQuery,
    response: { description: "Ledger entries", schema: S.Ledger },
    errors: ["not_found"],
  },
  {
    method: "post",
    path: "/admin/v1/tenants/{id}/adjustments",
    summary: "Credit (positive) or debit (negative) a tenant",
    tag: TAGS.operator,
    auth: "admin",
    params: tenantId,
    body: AdjustmentInput,
    response: { status: 201, description: "The entry and the new budget state", schema: S.AdjustmentResult },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/admin/v1/tenants/{id}/spend",
    summary: "Spend per UTC day, from the ledger",
    tag: TAGS.operator,
    auth: "admin",
    params: tenantId,
    query: SpendQuery,
    response: {
      description: "One row per day",
      schema: z.object({
        tenant_id: z.string(),
        from: z.string(),
        days: z.array(z.object({ date: z.iso.date(), charged_usd: z.number(), adjusted_usd: z.number(), reserved_usd: z.number(), tasks: z.number().int() })),
      }),
    },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/admin/v1/tenants/{id}/tasks",
    summary: "A tenant's recent tasks (every key)",
    tag: TAGS.operator,
    auth: "admin",
    params: tenantId,
    query: TenantTasksQuery,
    response: { description: "A page of tasks", schema: S.TaskList.extend({ tenant_id: z.string() }) },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/admin/v1/prices",
    summary: "Read the price table",
    tag: TAGS.operator,
    auth: "admin",
    response: { description: "Prices", schema: S.PriceTable.extend({ overridden: z.boolean() }) },
  },
  {
    method: "put",
    path: "/admin/v1/prices",
    summary: "Override the price table",
    description: "Every valid combination priced exactly once.",
    tag: TAGS.operator,
    auth: "admin",
    body: S.PriceTable,
    response: { description: "The new table", schema: S.PriceTable.extend({ overridden: z.boolean() }) },
  },

  {
    method: "post",
    path: "/webhooks/runapi/{taskId}/{token}",
    summary: "RunAPI's completion callback",
    description: "A wake-up hint: the proxy confirms with a status GET before money moves. A bad token is a 404.",
    tag: TAGS.system,
    auth: "callback",
    params: { taskId: "The proxy's task id", token: "HMAC of the task id under the server's secret" },
    response: { description: "Accepted", schema: S.Ok },
    errors: ["not_found"],
  },
  { method: "get", path: "/health", summary: "Liveness", tag: TAGS.system, auth: "none", response: { description: "Alive", schema: S.Ok } },
  {
    method: "get",
    path: "/openapi.json",
    summary: "This document (OpenAPI 3.1)",
    tag: TAGS.system,
    auth: "none",
    response: { description: "The OpenAPI document" },
  },
  {
    method: "get",
    path: "/videos/{taskId}/{file}",
    summary: "Download an archived video (signed URL)",
    description: "Streams from R2 with Range support (206). A bad or expired signature is 403.",
    tag: TAGS.system,
    auth: "none",
    params: { taskId: "The proxy's task id", file: "`{i}.mp4`" },
    query: z.object({ exp: z.string(), sig: z.string() }),
    response: { description: "The video", contentType: "video/mp4" },
    errors: ["forbidden", "not_found"],
  },
  { method: "get", path: "/docs", summary: "Interactive API reference (this document)", tag: TAGS.pages, auth: "none", response: html("An HTML page") },
  {
    method: "get",
    path: "/admin",
    summary: "Operator dashboard (sign in with the admin token)",
    tag: TAGS.pages,
    auth: "none",
    response: html("An HTML page"),
  },
  {
    method: "get",
    path: "/demo",
    summary: "Public demo page (publishable key)",
    tag: TAGS.pages,
    auth: "none",
    query: z.object({ key: z.string().optional() }),
    response: html("An HTML page"),
  },
];
