import { z } from "zod";
import { DURATIONS, MODEL_IDS, MODEL_RULES, RESOLUTIONS, type Endpoint, type ModelId } from "../domain/hailuo";
import { PRICE_SOURCES } from "../domain/pricing";
import { PERIODS } from "../domain/tenant";
import { TASK_STATUSES } from "../domain/task-state";
import { ERROR_STATUS } from "../lib/errors";

// Response shapes and the two request bodies whose validators are hand-written (the Hailuo create body,
// which reports every problem under the name the client sent, and the price table). Request bodies that
// routes parse with zod are imported from the routes themselves (see registry.ts).

const usd = z.number().describe("USD, rounded to 6 decimals");
const isoTime = z.iso.datetime({ offset: true });

/** The SPEC §3 error object, on every 4xx and 5xx. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]]),
    message: z.string(),
    request_id: z.string().describe("Also in the X-Request-Id header"),
    details: z.record(z.string(), z.unknown()).optional().describe("e.g. `issues: [{field, message}]` for invalid_request"),
    type: z.string().optional().describe("OpenAI's error type, on /v1/* only"),
  }),
});

function modelsOf(endpoint: Endpoint): [ModelId, ...ModelId[]] {
  return MODEL_IDS.filter((m) => MODEL_RULES[m].endpoint === endpoint) as [ModelId, ...ModelId[]];
}

function rulesText(endpoint: Endpoint): string {
  const rows = modelsOf(endpoint).map((m) => {
    const r = MODEL_RULES[m];
    const res = r.acceptsResolution ? r.resolutions.join(" | ") : `not accepted (${r.defaultResolution})`;
    const frames = endpoint === "text_to_video" ? "none" : r.lastFrame ? "first required, last optional" : "first required, last rejected";
    return `| \`${m}\` | ${r.durations.join(" | ")} (default ${r.defaultDuration}) | ${res} | ${frames} | ${r.maxPromptChars} |`;
  });
  return ["| model | duration_seconds | output_resolution | frames | prompt chars |", "|---|---|---|---|---|", ...rows].join("\n");
}

/** The Hailuo create body (validated by `parseHailuoRequest`, from the same MODEL_RULES); legacy aliases are accepted. */
export function hailuoCreateBody(endpoint: Endpoint) {
  const url = z.url().max(2048);
  const fields = {
    model: z.enum(modelsOf(endpoint)).describe("Legacy `hailuo-2-3-…` ids are accepted and normalised"),
    prompt: z.string().min(1).max(5000).describe("At most 1500 characters on 02 models, 5000 on 2.3"),
    duration_seconds: z.union(DURATIONS.map((d) => z.literal(d))).optional(),
    prompt_optimizer: z.boolean().optional(),
    enable_safety_checker: z.boolean().optional(),
    callback_url: url.optional().describe("The tenant's own signed webhook for this task (secret keys only); never forwarded as is"),
    duration: z
      .union([z.literal(6), z.literal(10), z.literal("6"), z.literal("10")])
      .optional()
      .meta({ deprecated: true, description: "Legacy alias of duration_seconds" }),
    nsfw_checker: z.boolean().optional().meta({ deprecated: true, description: "Legacy alias of enable_safety_checker" }),
  };
  const frames = {
    output_resolution: z.enum(RESOLUTIONS as [string, ...string[]]).optional(),
    first_frame_image_url: url.describe("https: image URL"),
    last_frame_image_url: url.optional(),
    resolution: z.string().optional().meta({ deprecated: true, description: 'Legacy alias of output_resolution ("768P")' }),
    image_url: url.optional().meta({ deprecated: true, description: "Legacy alias of first_frame_image_url" }),
    end_image_url: url.optional().meta({ deprecated: true, description: "Legacy alias of last_frame_image_url" }),
  };
  const schema = endpoint === "text_to_video" ? z.object(fields).strict() : z.object({ ...fields, ...frames }).strict();
  return schema.describe(`Unknown fields are a 400 naming them.\n\n${rulesText(endpoint)}`);
}

export const CreateResponse = z.object({
  id: z.uuid().describe("The proxy's task id"),
  task_id: z.uuid(),
  status: z.literal("pending"),
  model: z.string(),
  estimated_cost_usd: usd,
});

export const Task = z.object({
  id: z.uuid(),
  task_id: z.uuid(),
  status: z.enum(TASK_STATUSES as [string, ...string[]]),
  model: z.string(),
  videos: z.array(z.object({ url: z.string(), source_url: z.string().optional() })).optional(),
  error: z.string().optional(),
  error_code: z.string().optional(),
  estimated_cost_usd: usd,
  charged_usd: usd.nullable(),
  created_at: isoTime,
  updated_at: isoTime,
  webhook_deliveries: z
    .array(z.object({ attempt: z.number().int(), at: isoTime, status: z.number().int().nullable(), duration_ms: z.number(), error: z.string().optional() }))
    .optional(),
});

export const TaskList = z.object({
  tasks: z.array(z.object({ id: z.uuid(), status: z.string(), model: z.string(), key_id: z.string(), created_at: isoTime })),
  next_cursor: z.string().nullable(),
});

const Budget = z.object({ limit_usd: usd, period: z.enum(PERIODS) });

export const ScopeState = z.object({
  scope: z.enum(["tenant", "key", "end_user"]),
  subject: z.string(),
  period: z.enum(PERIODS),
  limit_usd: usd,
  spent_usd: usd,
  reserved_usd: usd,
  remaining_usd: usd,
  resets_at: isoTime.nullable(),
});

export const Me = z.object({
  tenant: z.object({ id: z.string(), name: z.string() }),
  key: z.object({ id: z.string(), kind: z.enum(["secret", "publishable"]), name: z.string().nullable(), expires_at: isoTime.nullable() }),
  via: z.enum(["key", "end_user_token"]),
  end_user: z.string().nullable(),
  budgets: z.record(z.string(), ScopeState),
  limits: z.object({ max_concurrent_tasks: z.number().int().nullable(), requests_per_minute: z.number().int().nullable() }).optional(),
  allowed_models: z.array(z.string()).nullable().optional(),
});

/** `GET /api/v1/prices`, `GET/PUT /admin/v1/prices` (PUT takes the same shape; validated by `parsePriceTable`). */
export const PriceTable = z.object({
  currency: z.literal("USD"),
  prices: z.array(
    z.object({
      model: z.enum(MODEL_IDS as [string, ...string[]]),
      duration_seconds: z.union(DURATIONS.map((d) => z.literal(d))),
      output_resolution: z.enum(RESOLUTIONS as [string, ...string[]]),
      price_usd: z.number().nonnegative(),
      source: z.enum(PRICE_SOURCES as [string, ...string[]]).optional(),
      note: z.string().max(500).optional(),
    }),
  ),
});

export const Prices = PriceTable.extend({ overridden: z.boolean(), pricing_mode: z.enum(["table", "quote"]).optional() });

export const Estimate = z.object({
  model: z.string(),
  duration_seconds: z.number().int(),
  output_resolution: z.string(),
  estimated_cost_usd: usd,
  price_source: z.string(),
  budget: z.object({ remaining_usd: usd.nullable(), would_exceed: z.boolean() }),
});

export const EndUserToken = z.object({ token: z.string(), sub: z.string(), expires_at: isoTime });

export const Tenant = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(["active", "disabled"]),
  budget: Budget,
  limits: z.object({ max_concurrent_tasks: z.number().int().nullable(), requests_per_minute: z.number().int().nullable() }),
  allowed_models: z.array(z.string()).nullable(),
  end_user_budget: Budget.nullable(),
  webhook_url: z.string().nullable(),
  webhook_secret: z.string().optional().describe("whsec_…; only on create and on rotation"),
  created_at: isoTime,
  updated_at: isoTime,
});

export const TenantEnvelope = z.object({ tenant: Tenant });
export const TenantPage = z.object({ tenants: z.array(Tenant), next_cursor: z.string().nullable() });

export const Key = z.object({
  id: z.string(),
  tenant_id: z.string(),
  kind: z.enum(["secret", "publishable"]),
  name: z.string().nullable(),
  prefix: z.string().describe("The first characters of the key, to recognise it"),
  budget: Budget.nullable(),
  allowed_origins: z.array(z.string()).nullable(),
  expires_at: isoTime.nullable(),
  revoked_at: isoTime.nullable(),
  created_at: isoTime,
  budget_key_id: z.string().nullable().optional().describe("Made by rotating a key: the first key of the chain, whose key budget this one shares"),
  replaced_by: z.string().nullable().optional().describe("Rotated: the key that replaced this one (it works until `expires_at`)"),
});

export const KeyCreated = Key.extend({ key: z.string().describe("sk_… or pk_…; shown in this response only") });
export const KeyList = z.object({ keys: z.array(Key) });
export const Usage = z.object({ tenant_id: z.string(), budgets: z.array(ScopeState) });

export const LedgerEntry = z.object({
  id: z.number().int(),
  at: isoTime,
  booked_at: isoTime,
  type: z.enum(["reserve", "settle", "release", "adjust"]),
  task_id: z.string().nullable(),
  key_id: z.string().nullable(),
  end_user: z.string().nullable(),
  model: z.string().nullable(),
  amount_micros: z.number().int(),
  reserved_micros: z.number().int(),
  reason: z.string().nullable(),
});

export const Ledger = z.object({ tenant_id: z.string(), entries: z.array(LedgerEntry), next_cursor: z.string().nullable() });
export const AdjustmentResult = z.object({ entry_id: z.number().int(), amount_usd: usd, reason: z.string(), budgets: z.array(ScopeState) });

export const Balance = z.object({
  balance_cents: z.number(),
  paid_balance_cents: z.number(),
  bonus_balance_cents: z.number(),
  spent_cents_today: z.number(),
  spent_cents_total: z.number(),
});

export const PriceQuoteRequest = z.object({ service: z.string(), action: z.string(), model: z.string(), params: z.record(z.string(), z.unknown()).optional() });
export const PriceQuote = z.object({ price_quote: z.object({ reservation_amount_cents: z.number() }).loose() });
export const PriceSchedules = z.object({}).loose().describe("RunAPI's price_schedules shape, answered from the proxy's own prices");

export const Models = z.object({
  object: z.literal("list"),
  data: z.array(z.object({ id: z.string(), object: z.literal("model"), owned_by: z.string().optional() }).loose()),
});
export const ChatRequest = z
  .object({
    model: z.string(),
    messages: z.array(z.object({ role: z.string() }).loose()).min(1),
    stream: z.boolean().optional(),
    max_tokens: z.number().int().optional(),
  })
  .loose()
  .describe("OpenAI's chat completion body; every field is passed through untouched");
export const ChatResponse = z
  .object({ id: z.string(), object: z.string(), choices: z.array(z.object({}).loose()), usage: z.object({}).loose().optional() })
  .loose();

export const JsonRpc = z
  .object({ jsonrpc: z.literal("2.0"), method: z.string().optional(), id: z.union([z.string(), z.number()]).optional() })
  .loose()
  .describe("A JSON-RPC 2.0 message (MCP Streamable HTTP)");

export const Ok = z.object({ ok: z.literal(true) });

/** The `budget.threshold` webhook body (SPEC §4; built by `budgetAlertBody`). */
export const BudgetThreshold = z.object({
  type: z.literal("budget.threshold"),
  tenant_id: z.string(),
  scope: z.enum(["tenant", "key", "end_user"]),
  subject: z.string(),
  period: z.enum(PERIODS),
  threshold_percent: z.number().int(),
  limit_usd: usd,
  spent_usd: usd,
  reserved_usd: usd,
  resets_at: isoTime.nullable(),
});
