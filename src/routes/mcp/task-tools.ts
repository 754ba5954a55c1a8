import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { findAction, isService, type Modality } from "../../catalog/catalog";
import { isTerminal, type TaskStatus } from "../../domain/task-state";
import { catalogRows } from "../model-views";
import { argumentError, followTask, jsonResult, MAX_WAIT_MS, pollInterval, DEFAULT_POLL_MS, toolError, usd, type ToolContext } from "./results";

const INFO_HINT = "Call get_model_info with service, action and model for the fields, their allowed values and input_rules.";

/** What a request costs per modality, in the caller's terms, for the create_task description. */
function spendSummary(ctx: ToolContext): string {
  const spans = new Map<Modality, { low: number; high: number; quoted: boolean }>();
  for (const row of catalogRows(ctx.prices, ctx.allowed)) {
    const { min_cents: min, max_cents: max } = row.price;
    if (min === null && max === null) continue;
    const span = spans.get(row.modality) ?? { low: Number.POSITIVE_INFINITY, high: 0, quoted: false };
    if (min !== null) span.low = Math.min(span.low, min);
    if (typeof max === "number") span.high = Math.max(span.high, max);
    else span.quoted = true;
    spans.set(row.modality, span);
  }
  const parts = [...spans].map(([m, s]) => `${m} ${usd(Number.isFinite(s.low) ? s.low : 0)}–${usd(s.high)}${s.quoted ? " (some quoted at request time)" : ""}`);
  return parts.length ? `Prices per request in your terms: ${parts.join("; ")}; each model's range from list_models or check_pricing.` : "";
}

/** RunAPI's task and account tools (`create_task`, `get_task`, `check_balance`) and the proxy's `get_budget`, each through the proxy's own routes. */
export function registerTaskTools(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    "create_task",
    {
      description:
        `Run a RunAPI operation (any service/action from list_models) with a caller-generated idempotency key. Synchronous operations answer at once; asynchronous ones, with wait (default true), are followed until they end or timeout_ms (at most ${MAX_WAIT_MS} ms), with progress notifications. ` +
        `${spendSummary(ctx)} ${ctx.limits}`,
      inputSchema: {
        service: z.string().describe("RunAPI service slug returned by list_models"),
        action: z.string().describe("RunAPI endpoint name, for example text_to_image"),
        model: z.string().optional().describe("RunAPI model slug"),
        params: z.record(z.string(), z.unknown()).default({}).describe("Endpoint parameters, validated as the HTTP API validates them (see get_model_info)"),
        idempotency_key: z
          .string()
          .min(1)
          .max(512)
          .refine((v) => v.trim().length > 0, "idempotency_key cannot be blank")
          .describe("Opaque caller-generated key: the same key and params replay the first task instead of charging again"),
        wait: z.boolean().default(true).describe("For asynchronous endpoints, wait until the task ends"),
        timeout_ms: z.number().int().positive().optional().describe(`How long to wait; values above ${MAX_WAIT_MS} are capped`),
        poll_interval_ms: z.number().int().positive().optional().describe(`How often to read the task while waiting (default ${DEFAULT_POLL_MS})`),
      },
    },
    async ({ service, action, model, params, idempotency_key, wait, timeout_ms, poll_interval_ms }, extra) => {
      const found = findAction(service, action);
      if (!found) {
        const what = isService(service) ? `RunAPI's ${service} has no ${action} action` : `Unknown RunAPI service: ${service}`;
        return argumentError(`Unsupported RunAPI service/action/model combination: ${what}`, "Call list_models first to choose a supported model.");
      }
      const body = { ...params, ...(model ? { model } : {}) };
      const created = await ctx.call("POST", found.path, body, { "Idempotency-Key": idempotency_key });
      if (created.status !== 200 && created.status !== 202) return toolError(created, INFO_HINT);
      if (found.sync) return jsonResult({ result: created.body }, { structured: true });

      const taskId = String(created.body.id);
      if (!wait) return jsonResult({ created: created.body, task_id: taskId, status: created.body.status }, { structured: true });
      const timeout = Math.min(timeout_ms ?? MAX_WAIT_MS, MAX_WAIT_MS);
      const last = await followTask(ctx.call, `${found.path}/${taskId}`, taskId, timeout, pollInterval(poll_interval_ms), extra);
      if (last.status !== 200) {
        return jsonResult(
          {
            created: created.body,
            task_id: taskId,
            status: created.body.status,
            warning: `the task could not be read: ${last.body?.error?.message ?? `HTTP ${last.status}`}`,
            hint: "The task was created and may still be processing. Call get_task with this task_id to continue.",
          },
          { structured: true },
        );
      }
      if (isTerminal(last.body.status as TaskStatus)) {
        return jsonResult({ task_id: taskId, status: last.body.status, completed: true, result: last.body }, { structured: true });
      }
      return jsonResult(
        { task_id: taskId, status: last.body.status, task: last.body, completed: false, wait_deadline_reached: true, next_action: "get_task" },
        { structured: true },
      );
    },
  );

  server.registerTool(
    "get_task",
    {
      description:
        `Fetch a task's status and outputs: RunAPI's arguments {service, action?, task_id} answer {task_id, status, task}; with task_id alone, the task itself. ` +
        `With wait_seconds (≤ ${MAX_WAIT_MS / 1000}) waits until it is completed or failed, reporting progress meanwhile. Costs nothing.`,
      inputSchema: {
        task_id: z.string(),
        service: z.string().optional().describe("RunAPI service slug of the task"),
        action: z.string().optional().describe("RunAPI endpoint name of the task"),
        wait_seconds: z.number().optional(),
      },
    },
    async ({ task_id, service, action, wait_seconds }, extra) => {
      if (wait_seconds !== undefined && !(wait_seconds >= 0 && wait_seconds <= MAX_WAIT_MS / 1000)) {
        return argumentError(`invalid_request: wait_seconds: must be between 0 and ${MAX_WAIT_MS / 1000}`);
      }
      if (action && !service) return argumentError("invalid_request: action needs service");
      const found = service && action ? findAction(service, action) : undefined;
      if (service && action && !found) return argumentError(`Unsupported RunAPI service/action: ${service}/${action}`, "Call list_actions or list_models.");
      const path = `${found?.path ?? "/api/v1/tasks"}/${encodeURIComponent(task_id)}`;
      const res = await followTask(ctx.call, path, task_id, (wait_seconds ?? 0) * 1000, DEFAULT_POLL_MS, extra);
      if (res.status !== 200) return toolError(res);
      if (!service) return jsonResult(res.body);
      if (!found && res.body.service !== service.toLowerCase().replaceAll("_", "-")) return argumentError(`not_found (HTTP 404): No such ${service} task`);
      return jsonResult({ task_id, status: res.body.status, task: res.body });
    },
  );

  server.registerTool(
    "check_balance",
    { description: "Return your balance and spending in RunAPI's shape (cents), from your budget on this proxy. Costs nothing.", inputSchema: {} },
    async () => {
      const res = await ctx.call("GET", "/api/v1/me/balance");
      return res.status === 200 ? jsonResult(res.body) : toolError(res);
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
      const [me, balance] = await Promise.all([ctx.call("GET", "/api/v1/me"), ctx.call("GET", "/api/v1/me/balance")]);
      if (me.status !== 200) return toolError(me);
      return jsonResult({ budgets: me.body.budgets, limits: me.body.limits, balance: balance.body });
    },
  );
}
