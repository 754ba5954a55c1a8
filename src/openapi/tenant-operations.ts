import { z } from "zod";
import type { ErrorCode } from "../lib/errors";
import { TokenRequest } from "../routes/end-user-tokens";
import { ListQuery as TaskListQuery } from "../routes/tasks";
import { type Operation, TAGS } from "./operation";
import * as S from "./schemas";

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
/** The drop-in Hailuo, tasks, account, OpenAI-compatible and MCP APIs (tenant keys). */
export const TENANT_OPERATIONS: Operation[] = [
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
];
