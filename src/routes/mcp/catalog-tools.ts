import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { actionsOfModel, findAction, isService } from "../../catalog/catalog";
import { modelFields } from "../../catalog/overlays";
import type { PriceSchedule } from "../../catalog/types";
import { fieldSummary, MODALITIES, rulesFor, type ModelRow } from "../model-views";
import { argumentError, jsonResult, toolError, type ToolContext } from "./results";

const LIST_HINT = "Call list_models (with service/action filters) to find supported combinations.";

/** The query string of `GET /api/v1/models` for the given filters. */
function modelsPath(filter: Record<string, string | undefined>): string {
  const q = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => typeof e[1] === "string"));
  return `/api/v1/models${q.size ? `?${q}` : ""}`;
}

/** Why no catalog row matched: not in the catalog, or not among the models this tenant may use. */
function noMatch(model: string | undefined, service: string | undefined, action: string | undefined): string {
  const known = model
    ? actionsOfModel(model).some((a) => (!service || a.service === service.replaceAll("_", "-")) && (!action || a.action === action))
    : Boolean(service && action && findAction(service, action));
  if (known) return `${model ?? `${service}/${action}`} is not enabled for this API key's tenant`;
  if (service && action) return `Unsupported RunAPI model/action combination: ${service}/${action}${model ? ` with model ${model}` : ""}`;
  if (service && !isService(service)) return `Unknown RunAPI service: ${service}`;
  return `Unknown RunAPI model: ${model}`;
}

/** The schedule entry of a row, in the caller's terms, through `GET /api/v1/price_schedules`. */
async function scheduleEntry(ctx: ToolContext, row: ModelRow): Promise<PriceSchedule | null> {
  const q = new URLSearchParams({ service: row.service, action: row.action, ...(row.model ? { model: row.model } : {}) });
  const res = await ctx.call("GET", `/api/v1/price_schedules?${q}`);
  if (res.status !== 200) return null;
  return ((res.body.price_schedules ?? []) as PriceSchedule[]).find((s) => s.model === row.model) ?? null;
}

/** A row's price: its range and the schedule entry it comes from, both in the caller's terms. */
async function priceOf(ctx: ToolContext, row: ModelRow) {
  return { ...row.price, price_schedule: await scheduleEntry(ctx, row) };
}

/** The rows of a model (or an action without models), or a tool error saying why there are none. */
async function rowsFor(ctx: ToolContext, model: string | undefined, service?: string, action?: string): Promise<ModelRow[] | CallToolResult> {
  const modelless = service && action ? findAction(service, action)?.models.length === 0 : false;
  const res = await ctx.call("GET", modelsPath({ service, action, model: modelless ? undefined : model }));
  if (res.status !== 200) return toolError(res, LIST_HINT);
  return res.body.models as ModelRow[];
}

/** RunAPI's catalog tools (`@runapi.ai/mcp`): list_models, get_model_info, list_actions, check_pricing; prices in the caller's terms. */
export function registerCatalogTools(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    "list_models",
    {
      description:
        'List the RunAPI models this key may use, one row per model × action, with required fields and the price range in your terms (cents per request; max_cents "quote" when RunAPI prices it at request time). Optional filters: modality, service, or action. Costs nothing.',
      inputSchema: { modality: z.enum(MODALITIES).optional(), service: z.string().optional(), action: z.string().optional() },
    },
    async ({ modality, service, action }) => {
      const res = await ctx.call("GET", modelsPath({ modality, service, action }));
      return res.status === 200 ? jsonResult(res.body) : toolError(res);
    },
  );

  server.registerTool(
    "get_model_info",
    {
      description:
        "Get the endpoint, price (in your terms) and input constraints (fields, input_rules) of a RunAPI model slug. Add service and action when the model supports several endpoints. Costs nothing.",
      inputSchema: {
        model: z.string().describe("RunAPI model slug returned by list_models"),
        service: z.string().optional().describe("RunAPI service slug returned by list_models; use with action to disambiguate multi-endpoint models"),
        action: z.string().optional().describe("RunAPI endpoint name returned by list_models; use with service to disambiguate multi-endpoint models"),
      },
    },
    async ({ model, service, action }) => {
      const rows = await rowsFor(ctx, model, service, action);
      if (!Array.isArray(rows)) return rows;
      const row = rows[0];
      if (!row) return argumentError(noMatch(model, service, action), LIST_HINT);
      const catalogAction = findAction(row.service, row.action)!;
      const rules = rulesFor(catalogAction, row.model);
      const ambiguous = !service && !action && rows.length > 1;
      return jsonResult({
        model: row.model,
        service: row.service,
        action: row.action,
        modality: row.modality,
        model_line: row.model_line,
        task_type: row.task_type,
        path: row.path,
        fields: fieldSummary(modelFields(catalogAction, row.model ?? undefined)),
        ...(rules.length ? { input_rules: rules } : {}),
        price: await priceOf(ctx, row),
        ...(ambiguous
          ? {
              ambiguous: true,
              hint: "This model supports several service/action pairs. Call get_model_info with service and action to inspect the exact input constraints before create_task.",
              matches: rows.map((r) => ({ service: r.service, action: r.action, modality: r.modality })),
            }
          : {}),
      });
    },
  );

  server.registerTool(
    "list_actions",
    { description: "List the RunAPI endpoint names this key may use, grouped by output modality. Costs nothing.", inputSchema: {} },
    async () => {
      const res = await ctx.call("GET", modelsPath({}));
      if (res.status !== 200) return toolError(res);
      const groups = new Map<string, Set<string>>();
      for (const row of res.body.models as ModelRow[]) groups.set(row.modality, (groups.get(row.modality) ?? new Set()).add(row.action));
      return jsonResult({ groups: [...groups].map(([modality, actions]) => ({ modality, actions: [...actions].sort() })) });
    },
  );

  server.registerTool(
    "check_pricing",
    {
      description:
        "Price of a RunAPI model/action in your terms: with service and action (and model), its price range and schedule entry; add params (the request's fields, e.g. duration or resolution) for the exact amount a create would reserve. " +
        "Without service/action (older clients): with a Hailuo model (and duration_seconds / output_resolution) the exact price and whether it fits your budget; with nothing, every price. Costs nothing.",
      inputSchema: {
        service: z.string().optional().describe("RunAPI service slug returned by list_models"),
        action: z.string().optional().describe("RunAPI endpoint name, for example text_to_image or text_to_music"),
        model: z.string().optional().describe("RunAPI model slug"),
        params: z.record(z.string(), z.unknown()).optional().describe("Request fields that set the price; adds the exact quote"),
        duration_seconds: z.union([z.number(), z.string()]).optional(),
        output_resolution: z.string().optional(),
      },
    },
    async ({ service, action, model, params, duration_seconds, output_resolution }) => {
      const shorthand = { ...(duration_seconds !== undefined ? { duration_seconds } : {}), ...(output_resolution ? { output_resolution } : {}) };
      if (!service && !action) {
        if (!model) return jsonResult((await ctx.call("GET", "/api/v1/prices")).body);
        if (!params && actionsOfModel(model).every((a) => a.service === "hailuo")) return legacyEstimate(ctx, model, shorthand);
      } else if (!service || !action) {
        return argumentError("invalid_request: service and action go together", LIST_HINT);
      }
      const rows = await rowsFor(ctx, model, service, action);
      if (!Array.isArray(rows)) return rows;
      const row = rows.find((r) => !model || r.model === model) ?? rows[0];
      if (!row) return jsonResult({ supported: false, message: noMatch(model, service, action), hint: LIST_HINT });
      const answer = {
        supported: true,
        model: row.model,
        service: row.service,
        action: row.action,
        price: await priceOf(ctx, row),
        ...(!service && rows.length > 1
          ? { ambiguous: true, matches: rows.map((r) => ({ service: r.service, action: r.action, price: r.price })), hint: "Name service and action for one." }
          : {}),
      };
      const quoted = { ...shorthand, ...params };
      if (!Object.keys(quoted).length) return jsonResult(answer);
      const res = await ctx.call("POST", "/api/v1/price_quotes", { service: row.service, action: row.action, model: row.model, params: quoted });
      if (res.status !== 200) return toolError(res, "Call get_model_info for the fields and their allowed values.");
      return jsonResult({ ...answer, quote: res.body.price_quote });
    },
  );
}

/** The Hailuo tools' own pricing (before RunAPI's arguments): `POST /api/v1/estimate` with a placeholder prompt and frame. */
async function legacyEstimate(ctx: ToolContext, model: string, shorthand: Record<string, unknown>): Promise<CallToolResult> {
  const body: Record<string, unknown> = { prompt: "price check", model, ...shorthand };
  if (model.includes("image-to-video")) body.first_frame_image_url = "https://price-check.invalid/frame.png";
  const res = await ctx.call("POST", "/api/v1/estimate", body);
  return res.status === 200 ? jsonResult(res.body) : toolError(res);
}
