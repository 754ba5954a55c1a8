import { z } from "zod";
import { actionsOfModel, findAction, isService } from "../catalog/catalog";
import { BUNDLED_SCHEDULE } from "../catalog/schedule.gen";
import { isChatEntry } from "../domain/price-schedule";
import { microsToUsd, usdToMicros } from "../domain/money";
import { DEFAULT_END_USER_RPM, PERIODS, type Budget, type KeyRecord, type TenantRecord } from "../domain/tenant";

/** At most 6 decimals: rounding to 6 decimals gives the same number back (exact where `v * 1e6` is not, e.g. 68029.283026). */
const sixDecimals = (v: number) => Number(v.toFixed(6)) === v;
const usd = z.number().finite().nonnegative().max(1e9).refine(sixDecimals, "at most 6 decimals");

/** `{limit_usd, period}` in, integer micros inside. */
export const BudgetInput = z
  .object({ limit_usd: usd, period: z.enum(PERIODS) })
  .strict()
  .transform((b): Budget => ({ limit_micros: usdToMicros(b.limit_usd), period: b.period }));

const webhookUrl = z.url({ protocol: /^https?$/ }).max(2048);
const Limits = z
  .object({
    max_concurrent_tasks: z.number().int().positive().max(100_000).nullable().optional(),
    requests_per_minute: z.number().int().positive().max(1_000_000).nullable().optional(),
  })
  .strict();

/** Chat's entries: every chat model (`chat`, `chat/completions`) or one of the bundled schedule's chat models. */
const CHAT_ENTRIES = new Set(["chat", "chat/completions", ...BUNDLED_SCHEDULE.price_schedules.filter(isChatEntry).map((s) => s.model!)]);

/** Catalog models, services (`kling`) or actions (`kling/text_to_video`) a tenant may use, and chat's entries. */
const AllowedModels = z
  .array(
    z
      .string()
      .max(200)
      .refine(
        (v) =>
          actionsOfModel(v).length > 0 ||
          isService(v) ||
          (v.split("/").length === 2 && findAction(v.split("/")[0]!, v.split("/")[1]!) !== undefined) ||
          CHAT_ENTRIES.has(v),
        {
          message:
            "must be a catalog model, a service (kling) or an action (kling/text_to_video), a chat model, or chat for every chat model; GET /api/v1/models and GET /v1/models list them",
        },
      ),
  )
  .min(1)
  .max(500);

/** A tenant's markup on RunAPI's prices (SPEC §12), replacing the operator's default. */
const MarkupPercent = z
  .number()
  .min(-100)
  .max(10_000)
  .refine((v) => Number(v.toFixed(2)) === v, "at most 2 decimals");
const MarkupOverrides = z
  .array(
    z
      .object({
        service: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
        action: z
          .string()
          .regex(/^[a-z0-9_]{1,64}$/)
          .optional(),
        model: z.string().max(128).optional(),
        markup_percent: MarkupPercent,
      })
      .strict()
      .transform((o) => ({ ...o, service: o.service.replaceAll("_", "-") })),
  )
  .max(200);

/** A tenant's weight in sharing RunAPI's capacity (SPEC §14): positive, at most 2 decimals. */
const CapacityWeight = z
  .number()
  .positive()
  .max(1000)
  .refine((v) => Number(v.toFixed(2)) === v, "at most 2 decimals");
/** Tasks in flight a tenant gets first whenever it wants them. */
const CapacityFloor = z.number().int().nonnegative().max(100_000);

/** Budget alert thresholds: distinct whole percents, 1 to 100 ([] turns alerts off). */
const AlertThresholds = z
  .array(z.number().int().min(1).max(100))
  .max(10)
  .refine((a) => new Set(a).size === a.length, "must not repeat a threshold");

/** `POST /admin/v1/tenants`. */
export const TenantCreate = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "lowercase letters, digits, _ and -, at most 64")
      .optional(),
    name: z.string().trim().min(1).max(200),
    budget: BudgetInput,
    limits: Limits.optional(),
    allowed_models: AllowedModels.nullable().optional(),
    markup_percent: MarkupPercent.nullable().optional(),
    markup_overrides: MarkupOverrides.optional(),
    end_user_budget: BudgetInput.nullable().optional(),
    webhook_url: webhookUrl.nullable().optional(),
    alert_thresholds_percent: AlertThresholds.optional(),
    capacity_weight: CapacityWeight.optional(),
    capacity_floor: CapacityFloor.optional(),
    queue: z.boolean().optional(),
  })
  .strict();

/** `PATCH /admin/v1/tenants/{id}`: any subset, plus status and secret rotation. */
export const TenantPatch = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    status: z.enum(["active", "disabled"]).optional(),
    budget: BudgetInput.optional(),
    limits: Limits.optional(),
    allowed_models: AllowedModels.nullable().optional(),
    markup_percent: MarkupPercent.nullable().optional(),
    markup_overrides: MarkupOverrides.optional(),
    end_user_budget: BudgetInput.nullable().optional(),
    webhook_url: webhookUrl.nullable().optional(),
    alert_thresholds_percent: AlertThresholds.optional(),
    capacity_weight: CapacityWeight.optional(),
    capacity_floor: CapacityFloor.optional(),
    queue: z.boolean().optional(),
    rotate_webhook_secret: z.literal(true).optional(),
  })
  .strict();

/**
 * `POST /admin/v1/tenants/{id}/keys`. A publishable key ships in web pages, so it must name the origins
 * that may use it and carries a per-visitor rate (`end_user_requests_per_minute`, default 5).
 */
export const KeyCreate = z
  .object({
    kind: z.enum(["secret", "publishable"]),
    name: z.string().trim().min(1).max(200).optional(),
    budget: BudgetInput.optional(),
    allowed_origins: z
      .array(z.url({ protocol: /^https?$/ }).transform((u) => new URL(u).origin))
      .min(1)
      .max(50)
      .optional(),
    end_user_requests_per_minute: z.number().int().positive().max(10_000).optional(),
    /** Within the tenant's list; on a publishable key also what `/demo` offers (absent: the Hailuo models). */
    allowed_models: AllowedModels.nullable().optional(),
    expires_at: z.iso
      .datetime({ offset: true })
      .refine((v) => Date.parse(v) > Date.now(), "must be in the future")
      .optional(),
  })
  .strict()
  .superRefine((k, ctx) => {
    if (k.kind === "publishable" && !k.allowed_origins) {
      ctx.addIssue({
        code: "custom",
        path: ["allowed_origins"],
        message: 'is required for a publishable key (the web origins that may use it, e.g. ["https://app.example"])',
      });
    }
    if (k.kind === "secret" && k.end_user_requests_per_minute !== undefined) {
      ctx.addIssue({ code: "custom", path: ["end_user_requests_per_minute"], message: "applies to publishable keys only" });
    }
  })
  .transform((k) => ({ ...k, end_user_requests_per_minute: k.kind === "publishable" ? (k.end_user_requests_per_minute ?? DEFAULT_END_USER_RPM) : null }));

/** One adjustment's bound: large enough for any real credit, small enough that no sum of them leaves safe integers. */
const MAX_ADJUSTMENT_USD = 1_000_000;

/** `POST /admin/v1/tenants/{id}/adjustments`: positive credits the tenant, negative debits it. */
export const AdjustmentInput = z
  .object({
    amount_usd: z
      .number()
      .finite()
      .refine((v) => v !== 0, "must not be zero")
      .refine(sixDecimals, "at most 6 decimals")
      .refine((v) => Math.abs(v) <= MAX_ADJUSTMENT_USD, `at most ${MAX_ADJUSTMENT_USD} either way`),
    reason: z.string().trim().min(1).max(500),
  })
  .strict();

const budgetJson = (b: Budget | null) => (b ? { limit_usd: microsToUsd(b.limit_micros), period: b.period } : null);

/** A tenant as the operator API shows it; the signing secret only when asked (create, rotation). */
export function tenantJson(t: TenantRecord, opts: { withSecret?: boolean } = {}) {
  const { webhook_secret, budget, end_user_budget, ...rest } = t;
  return {
    ...rest,
    capacity_weight: t.capacity_weight ?? 1,
    capacity_floor: t.capacity_floor ?? 0,
    queue: t.queue ?? false,
    budget: budgetJson(budget),
    end_user_budget: budgetJson(end_user_budget),
    ...(opts.withSecret && webhook_secret ? { webhook_secret } : {}),
  };
}

/** A key as the operator API shows it (never the plaintext, never the hash). */
export function keyJson(k: KeyRecord) {
  return { ...k, allowed_models: k.allowed_models ?? null, budget: budgetJson(k.budget) };
}
