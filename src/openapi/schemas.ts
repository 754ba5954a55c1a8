import { z } from "zod";
import { PERIODS } from "../domain/tenant";
import { TASK_STATUSES } from "../domain/task-state";
import { ERROR_STATUS } from "../lib/errors";

// Response shapes. The catalog's create bodies are generated from RunAPI's contract (catalog-operations.ts);
// request bodies that routes parse with zod are imported from the routes themselves (see registry.ts).

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

export const CreateResponse = z.object({
  id: z.uuid().describe("The proxy's task id"),
  task_id: z.uuid(),
  status: z.enum(["pending", "queued"]).describe("`queued` (answered 202): held beyond the tenant's share of RunAPI's capacity, sent in fair order"),
  model: z.string(),
  estimated_cost_usd: usd,
});

export const Task = z
  .object({
    id: z.uuid(),
    task_id: z.uuid(),
    status: z.enum(TASK_STATUSES as [string, ...string[]]),
    model: z.string(),
    videos: z.array(z.object({ url: z.string(), source_url: z.string().optional() }).loose()).optional(),
    images: z.array(z.object({ url: z.string(), source_url: z.string().optional() }).loose()).optional(),
    audios: z.array(z.object({ audio_url: z.string(), source_audio_url: z.string().optional() }).loose()).optional(),
    error: z.string().optional(),
    error_code: z.string().optional(),
    estimated_cost_usd: usd,
    charged_usd: usd.nullable(),
    created_at: isoTime,
    updated_at: isoTime,
    service: z.string().optional(),
    action: z.string().optional(),
    webhook_deliveries: z
      .array(z.object({ attempt: z.number().int(), at: isoTime, status: z.number().int().nullable(), duration_ms: z.number(), error: z.string().optional() }))
      .optional(),
  })
  .loose()
  .describe(
    "RunAPI's result fields as its status read shows them (videos, images, audios, video_url, lyrics…); each archived file's URL is the proxy's signed /media link, RunAPI's beside it as source_<name>",
  );

export const TaskList = z.object({
  tasks: z.array(
    z.object({
      id: z.uuid(),
      status: z.string(),
      model: z.string(),
      key_id: z.string(),
      created_at: isoTime,
      error_code: z.string().optional().describe("A failed task's error code, as its own read shows it"),
    }),
  ),
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

/** One price in RunAPI's schedule shape (cents, possibly fractional), with the proxy's provenance. */
export const PriceScheduleEntry = z
  .object({
    service: z.string(),
    action: z.string(),
    model: z.string().nullable(),
    billing_unit: z.string().optional(),
    billing_strategy: z.string().optional(),
    unit_price_cents: z.number().nullable().optional(),
    input_price_per_1m_cents: z.number().nullable().optional(),
    output_price_per_1m_cents: z.number().nullable().optional(),
    billing_config: z.record(z.string(), z.unknown()).nullable().optional(),
    source: z.enum(["published", "provisional"]).optional(),
    note: z.string().optional(),
  })
  .loose();

/** `GET /api/v1/prices`: the schedule in the caller's terms. */
export const Prices = z.object({
  currency: z.literal("USD"),
  as_of: z.string(),
  schedule: z.object({ origin: z.enum(["runapi", "bundled"]), synced_at: isoTime.nullable() }),
  pricing_mode: z.enum(["table", "quote"]),
  prices: z.array(PriceScheduleEntry),
});

/** `PUT /admin/v1/prices`: the operator's markup on RunAPI's prices (validated by `parseMarkup`). */
export const MarkupInput = z
  .object({
    markup_percent: z.number().min(-100).max(10_000).optional(),
    overrides: z
      .array(z.object({ service: z.string(), action: z.string().optional(), model: z.string().optional(), markup_percent: z.number() }).strict())
      .optional(),
  })
  .strict();

/** `GET/PUT /admin/v1/prices`: RunAPI's schedule as held (before markup) and the markup. */
export const AdminPrices = z.object({
  schedule: z.object({ origin: z.enum(["runapi", "bundled"]), as_of: z.string(), etag: z.string(), synced_at: isoTime.nullable(), prices: z.number().int() }),
  pricing_mode: z.enum(["table", "quote"]),
  markup: MarkupInput,
  price_schedules: z.array(PriceScheduleEntry),
});

export const PriceSync = z.object({
  changed: z.boolean(),
  as_of: z.string(),
  etag: z.string(),
  synced_at: isoTime,
  prices: z.number().int(),
  added: z.array(z.string()),
  removed: z.array(z.string()),
  updated: z.array(z.string()),
  rejected: z.number().int(),
});

const CapacityLimit = z.object({ max: z.number().int(), effective: z.number().int(), held: z.number().int() });

export const Capacity = z.object({
  slots: CapacityLimit.extend({ in_flight: z.number().int() }).nullable().describe("Tasks in flight at RunAPI; null: not limited"),
  rate: CapacityLimit.extend({ used_last_minute: z.number().int() }).nullable().describe("Creates per minute; null: not limited"),
  queued: z.number().int(),
  tenants: z.array(
    z.object({
      tenant_id: z.string(),
      weight: z.number(),
      floor: z.number().int(),
      in_flight: z.number().int(),
      queued: z.number().int(),
      want_slots: z.number().int().describe("Tasks it needs in flight: in flight, queued, refused lately"),
      want_headroom: z.number().int().describe("Room it would like on top, served only from what no one needs"),
      held_slots: z.number().int(),
      target_slots: z.number().int(),
      sends: z.boolean().describe("It sent creates lately: it gets a weighted split of the rate"),
      held_rate: z.number().int(),
      target_rate: z.number().int(),
      reported_at: isoTime,
    }),
  ),
});

export const Margins = z.object({
  from: isoTime,
  to: isoTime,
  margins: z.array(z.object({ tenant_id: z.string(), model: z.string(), requests: z.number().int(), charged_usd: usd, cost_usd: usd, margin_usd: usd })),
  totals: z.object({ charged_usd: usd, cost_usd: usd, margin_usd: usd }),
});

export const Estimate = z.object({
  service: z.string(),
  action: z.string(),
  model: z.string().nullable(),
  params: z.record(z.string(), z.unknown()),
  estimated_cost_usd: usd,
  price_source: z.string(),
  price_basis: z.string(),
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
  capacity_weight: z.number().describe("Weight in sharing RunAPI's capacity (default 1)"),
  capacity_floor: z.number().int().describe("Tasks in flight it gets first when it wants them (default 0)"),
  queue: z.boolean().describe("Beyond its share, creates wait in its queue instead of a 429"),
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
  allowed_models: z
    .array(z.string())
    .nullable()
    .describe(
      "Models, services or service/action this key may use, within the tenant's list; null: the tenant's list. A publishable key's list is what /demo offers (null: the Hailuo models)",
    ),
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
  cost_micros: z.number().int().nullable().describe("RunAPI's cost behind the amount (the amount is the tenant's price, with markup)"),
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

export const PriceQuoteRequest = z.object({
  service: z.string(),
  action: z.string(),
  model: z.string().nullable().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});
export const PriceQuote = z.object({ price_quote: z.object({ reservation_amount_cents: z.number() }).loose() });
export const PriceSchedules = z.object({ as_of: z.string(), price_schedules: z.array(PriceScheduleEntry) });

/** An OpenAI model object: a chat model the schedule prices. */
export const ChatModel = z.object({ id: z.string(), object: z.literal("model"), created: z.number().int(), owned_by: z.string() });
/** OpenAI's model list. */
export const Models = z.object({ object: z.literal("list"), data: z.array(ChatModel) });

const CatalogPrice = z.object({
  currency: z.literal("USD"),
  min_cents: z.number().nullable().describe("The least one request costs, in your terms (per billing unit for per-unit strategies)"),
  max_cents: z
    .union([z.number(), z.literal("quote")])
    .nullable()
    .describe('The most one request costs; "quote" when the schedule sets no bound'),
  billing_strategy: z.string(),
  billing_unit: z.string(),
  varies_with: z.array(z.string()).optional().describe("The request fields the price depends on"),
  source: z.enum(["published", "provisional"]).optional(),
  unavailable: z.string().optional().describe("Why there is no price (a create is refused pricing_unavailable)"),
});
/** `GET /api/v1/models`: the media catalog with price ranges. */
export const CatalogModels = z.object({
  count: z.number().int(),
  source: z.string(),
  as_of: z.string().describe("The date of RunAPI's contract the catalog comes from"),
  prices_as_of: z.string(),
  currency: z.literal("USD"),
  models: z.array(
    z.object({
      model: z.string().nullable().describe("null for an action that takes no model"),
      service: z.string(),
      action: z.string(),
      modality: z.enum(["video", "image", "audio", "utility"]),
      model_line: z.string(),
      task_type: z.enum(["asynchronous", "synchronous"]),
      path: z.string().describe("Where to POST a create; status reads at {path}/{id}"),
      required_fields: z.array(z.string()),
      price: CatalogPrice,
    }),
  ),
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
