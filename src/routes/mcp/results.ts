import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { ScheduleIndex } from "../../domain/price-schedule";
import { isTerminal, type TaskStatus } from "../../domain/task-state";

/** An answer of the proxy's own HTTP API to an in-process call. */
export interface ProxyAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of the proxy's own API, read field by field by the tools
  body: any;
}

/** Calls the proxy's own HTTP API in-process as the MCP caller, so a tool shares every rule (budgets, limits, idempotency). */
export type ProxyCall = (method: "GET" | "POST", path: string, body?: unknown, headers?: Record<string, string>) => Promise<ProxyAnswer>;

/** What every tool needs of its caller: the in-process call, its prices (marked up), the models it may use, a line on its limits. */
export interface ToolContext {
  call: ProxyCall;
  prices: ScheduleIndex;
  allowed: readonly string[] | null;
  limits: string;
}

/** What a tool handler receives beside its arguments (progress token, notifications, cancellation). */
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** The longest a tool waits for a task to end (MCP clients time out long calls; `get_task` continues). */
export const MAX_WAIT_MS = 100_000;
/** How often a waiting tool reads the task (one read of the tenant's object, no upstream call). */
export const DEFAULT_POLL_MS = 1_000;
const MIN_POLL_MS = 250;
const MAX_POLL_MS = 10_000;

/** A JSON answer, as RunAPI's MCP server writes it (pretty-printed text); `structured` adds it as structured content. */
export function jsonResult(value: unknown, opts: { isError?: boolean; structured?: boolean } = {}): CallToolResult {
  return {
    content: [{ type: "text", text: JSON.stringify(value, null, 2) }],
    ...(opts.structured && value && typeof value === "object" ? { structuredContent: value as Record<string, unknown> } : {}),
    ...(opts.isError ? { isError: true } : {}),
  };
}

/** A tool error in RunAPI's shape (`{error, hint?}`) that an agent can act on: the proxy's code and message, and each bad field. */
export function toolError(answer: ProxyAnswer, hint?: string): CallToolResult {
  const e = (answer.body?.error ?? {}) as { code?: string; message?: string; details?: { issues?: { field: string; message: string }[] } };
  const issues = e.details?.issues ?? [];
  return jsonResult(
    {
      error: `${e.code ?? `http_${answer.status}`} (HTTP ${answer.status}): ${e.message ?? "request failed"}`,
      code: e.code ?? null,
      ...(issues.length ? { issues } : {}),
      ...(hint ? { hint } : {}),
    },
    { isError: true },
  );
}

/** A tool error of the tool's own (a bad argument, an unknown model), in the same shape. */
export function argumentError(message: string, hint?: string): CallToolResult {
  return jsonResult({ error: message, ...(hint ? { hint } : {}) }, { isError: true });
}

/** Cents as dollars for descriptions: "$0.30". */
export function usd(cents: number): string {
  return `$${(cents / 100).toFixed(cents > 0 && cents < 1 ? 4 : 2)}`;
}

/** The poll interval a caller asked for, kept within reason. */
export function pollInterval(ms: number | undefined): number {
  return Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, ms ?? DEFAULT_POLL_MS));
}

/**
 * Reads a task at `path` until it ends, `waitMs` passes or the client cancels; while waiting, sends
 * `notifications/progress` when the client gave a progress token. Answers the last read.
 */
export async function followTask(call: ProxyCall, path: string, taskId: string, waitMs: number, intervalMs: number, extra: ToolExtra): Promise<ProxyAnswer> {
  const started = Date.now();
  const deadline = started + waitMs;
  const token = extra._meta?.progressToken;
  for (;;) {
    const res = await call("GET", path);
    if (res.status !== 200 || isTerminal(res.body.status as TaskStatus) || Date.now() >= deadline || extra.signal.aborted) return res;
    if (token !== undefined) {
      const elapsed = Date.now() - started;
      await extra.sendNotification({
        method: "notifications/progress",
        params: {
          progressToken: token,
          progress: Math.max(1, Math.min(elapsed, waitMs)),
          total: waitMs,
          message: `Task ${taskId} is ${res.body.status} after ${Math.round(elapsed / 1000)} s`,
        },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}
