import { z } from "zod";
import type { AuditDraft, OperatorContext } from "./domain/operators";
import type { AuthContext } from "./domain/tenant";
import { AppError } from "./lib/errors";
import type { LogFields } from "./lib/log";

/** Bindings as deployed, plus the optional ones local runs and tests add. */
export type Bindings = Env & {
  /** When bound, RunAPI calls go through this service (the simulator) instead of the network. */
  RUNAPI?: Fetcher;
  /** When bound, Turnstile siteverify calls go through this service (the simulator in tests) instead of the network. */
  TURNSTILE?: Fetcher;
  /** Base delay of the upstream create retry (default 250 ms). */
  UPSTREAM_RETRY_BASE_MS?: string;
  /** The archive of output files of every modality (SPEC §11, §12); without it tasks keep RunAPI's links. */
  VIDEOS?: R2Bucket;
  /** Where ledger entries and finished tasks older than LEDGER_HOT_DAYS go (issue 20); without it they stay in the tenant's object. */
  HISTORY?: R2Bucket;
  /** First retry delay of a failed archive copy (default 10 s, then ×4 per attempt). */
  VIDEO_COPY_RETRY_BASE_MS?: string;
  /** "true" only under `npm run bench`: the tenant object answers the bench's hooks (seed history, run alarms, count rows). */
  BENCH_HOOKS?: string;
  /** Optional Workers Analytics Engine dataset: the metrics' events, one data point each. */
  ANALYTICS?: AnalyticsEngineDataset;
};

/** Hono's environment for every route and middleware. */
export type AppEnv = {
  Bindings: Bindings;
  Variables: {
    requestId: string;
    config: Config;
    auth: AuthContext;
    /** Who is calling the operator API (set by `operatorAuth`). */
    operator: OperatorContext;
    /** What an operator write changed, for the audit log (`auditAs`). */
    audit: AuditDraft;
    /** Extra fields for this request's access-log line (`logField`). */
    logFields: LogFields;
    /** The route to log and count for a request served by a generic route (a catalog action's own path). */
    routeLabel?: string;
  };
};

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const flag = z
  .enum(["true", "false", "1", "0", ""])
  .default("false")
  .transform((v) => v === "true" || v === "1");
const nonEmpty = z.string({ error: "is not set" }).min(1, "is not set");

const ConfigSchema = z.object({
  RUNAPI_BASE_URL: z.url().default("https://runapi.ai"),
  RUNAPI_API_KEY: nonEmpty,
  ADMIN_TOKEN: nonEmpty.min(16, "must be at least 16 characters"),
  SIGNING_SECRET: nonEmpty.min(16, "must be at least 16 characters"),
  PUBLIC_BASE_URL: z.union([z.literal(""), z.url()]).default(""),
  TASK_POLL_AFTER_SECONDS: seconds(90),
  TASK_POLL_INTERVAL_SECONDS: seconds(15),
  TASK_TTL_SECONDS: seconds(3600),
  UPSTREAM_TIMEOUT_MS: seconds(30_000),
  UPSTREAM_RETRY_BASE_MS: z.coerce.number().int().nonnegative().default(250),
  MAX_BODY_BYTES: seconds(65_536),
  CHAT_MAX_BODY_BYTES: seconds(4_194_304),
  CHAT_TIMEOUT_MS: seconds(120_000),
  CHAT_MAX_RESPONSE_BYTES: seconds(8 * 1024 * 1024),
  CHAT_MAX_EVENT_BYTES: seconds(1024 * 1024),
  UPSTREAM_MAX_JSON_BYTES: seconds(1024 * 1024),
  ARCHIVE_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .max(4 * 1024 ** 3, "must be at most 4 GiB (4294967296)")
    .default(1024 ** 3),
  ARCHIVE_ALLOWED_HOSTS: z
    .string()
    .max(4000, "must be at most 4000 characters")
    .regex(/^\s*((\*\.)?[a-z0-9.-]+\s*(,\s*|$))*$/i, "must be comma-separated host names, each exact or *.suffix")
    .optional(),
  UPSTREAM_MAX_CONCURRENT_TASKS: z.coerce.number().int().nonnegative().max(1_000_000).default(50),
  UPSTREAM_REQUESTS_PER_MINUTE: z.coerce.number().int().nonnegative().max(100_000_000).default(300),
  DEFAULT_TENANT_MAX_CONCURRENT_TASKS: z.coerce.number().int().nonnegative().max(100_000).default(20),
  DEFAULT_TENANT_REQUESTS_PER_MINUTE: z.coerce.number().int().nonnegative().max(1_000_000).default(120),
  SSE_MAX_STREAMS_PER_TASK: seconds(5),
  SSE_MAX_STREAMS_PER_TENANT: seconds(200),
  UPLOAD_MAX_BYTES: seconds(20 * 1024 * 1024),
  ALLOW_HTTP_URLS: flag,
  ALLOW_PRIVATE_URLS: flag,
  PRICING_MODE: z.enum(["table", "quote"]).default("table"),
  VIDEO_URL_TTL_SECONDS: seconds(7 * 86_400),
  VIDEO_RETENTION_DAYS: seconds(90),
  LEDGER_HOT_DAYS: seconds(35),
  VIDEO_COPY_RETRY_BASE_MS: z.coerce.number().int().nonnegative().default(10_000),
  TURNSTILE_SECRET_KEY: z.string().max(500, "must be at most 500 characters").optional(),
  TURNSTILE_SITE_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, "must be a Turnstile site key (letters, digits, _ and -)")
    .optional(),
  TURNSTILE_VERIFY_URL: z.url().default("https://challenges.cloudflare.com/turnstile/v0/siteverify"),
  DEMO_PUBLISHABLE_KEY: z
    .string()
    .regex(/^pk_[A-Za-z0-9_-]{20,200}$/, "must be a publishable key (pk_…)")
    .optional(),
});

/** The name of every var and secret the configuration reads (each one documented in the README). */
export const CONFIG_VARS = Object.keys(ConfigSchema.shape);

/** Validated configuration: durations in milliseconds, flags as booleans. */
export interface Config {
  runapiBaseUrl: string;
  runapiApiKey: string;
  adminToken: string;
  signingSecret: string;
  publicBaseUrl: string | undefined;
  taskPollAfterMs: number;
  taskPollIntervalMs: number;
  taskTtlMs: number;
  upstreamTimeoutMs: number;
  upstreamRetryBaseMs: number;
  maxBodyBytes: number;
  /** Chat bodies carry whole conversations and tool schemas: their own, larger limit. */
  chatMaxBodyBytes: number;
  /** How long a chat completion may take to start answering (headers; a stream may then run longer). */
  chatTimeoutMs: number;
  /** The most a non-streamed chat answer may be; beyond it the answer is lost (502) and the reservation charged. */
  chatMaxResponseBytes: number;
  /** The most one server-sent event of a streamed chat may be; beyond it the stream ends with an error event. */
  chatMaxEventBytes: number;
  /** The most any JSON answer of RunAPI may be (creates, status reads, quotes, errors); beyond it: 502. */
  upstreamMaxJsonBytes: number;
  /** The largest file the archive copies (counted while it streams). */
  archiveMaxBytes: number;
  /** Hosts the archive may download from besides RunAPI's own origin (`name` or `*.suffix`); null: any public host. */
  archiveAllowedHosts: string[] | null;
  /** RunAPI's account limits as the operator sets them (SPEC §14): tasks in flight, creates per minute; null: not limited. */
  upstreamMaxConcurrentTasks: number | null;
  upstreamRequestsPerMinute: number | null;
  /** The limits a new tenant gets when the operator sets none; null: none. */
  defaultTenantMaxConcurrentTasks: number | null;
  defaultTenantRequestsPerMinute: number | null;
  /** Open event streams (`/api/v1/tasks/{id}/events`) per task and per tenant; beyond: 429. */
  sseMaxStreamsPerTask: number;
  sseMaxStreamsPerTenant: number;
  /** The largest file RunAPI's upload endpoints take through the proxy (`/api/v1/files…`, `/v1/uploads…`); bodies carrying one are bounded by it. */
  uploadMaxBytes: number;
  allowHttpUrls: boolean;
  /** Webhook and callback URLs may name loopback or private hosts (local testing only). */
  allowPrivateUrls: boolean;
  pricingMode: "table" | "quote";
  videoUrlTtlSeconds: number;
  videoRetentionMs: number;
  /** How long ledger entries and finished tasks stay in the tenant's object before they move to R2 (a current budget window always stays). */
  ledgerHotMs: number;
  videoCopyRetryBaseMs: number;
  /** Set: publishable-key creates need a Turnstile token verified with it. */
  turnstileSecretKey: string | undefined;
  /** Given to the demo page to render the Turnstile widget. */
  turnstileSiteKey: string | undefined;
  turnstileVerifyUrl: string;
  /** The key `GET /demo` uses when the URL names none. */
  demoPublishableKey: string | undefined;
}

const cache = new WeakMap<object, Config>();

/**
 * Reads and checks the Worker's vars and secrets once per env object.
 * A missing or malformed one is a 500 `misconfigured` that names the variable, never its value.
 */
export function loadConfig(env: Bindings): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const raw: Record<string, unknown> = {};
  for (const key of CONFIG_VARS) {
    const value = (env as unknown as Record<string, unknown>)[key];
    raw[key] = value === "" && key !== "PUBLIC_BASE_URL" && key !== "ALLOW_HTTP_URLS" && key !== "ALLOW_PRIVATE_URLS" ? undefined : value;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const names = parsed.error.issues.map(
      (i) => `${i.path.join(".")} ${i.message.startsWith("is ") || i.message.startsWith("must") ? i.message : "is invalid"}`,
    );
    throw new AppError("misconfigured", `The proxy is misconfigured: ${names.join("; ")}. The operator must set it (see README, Configuration).`);
  }
  const v = parsed.data;
  const config: Config = {
    runapiBaseUrl: v.RUNAPI_BASE_URL.replace(/\/+$/, ""),
    runapiApiKey: v.RUNAPI_API_KEY,
    adminToken: v.ADMIN_TOKEN,
    signingSecret: v.SIGNING_SECRET,
    publicBaseUrl: v.PUBLIC_BASE_URL ? v.PUBLIC_BASE_URL.replace(/\/+$/, "") : undefined,
    taskPollAfterMs: v.TASK_POLL_AFTER_SECONDS * 1000,
    taskPollIntervalMs: v.TASK_POLL_INTERVAL_SECONDS * 1000,
    taskTtlMs: v.TASK_TTL_SECONDS * 1000,
    upstreamTimeoutMs: v.UPSTREAM_TIMEOUT_MS,
    upstreamRetryBaseMs: v.UPSTREAM_RETRY_BASE_MS,
    maxBodyBytes: v.MAX_BODY_BYTES,
    chatMaxBodyBytes: v.CHAT_MAX_BODY_BYTES,
    chatTimeoutMs: v.CHAT_TIMEOUT_MS,
    chatMaxResponseBytes: v.CHAT_MAX_RESPONSE_BYTES,
    chatMaxEventBytes: v.CHAT_MAX_EVENT_BYTES,
    upstreamMaxJsonBytes: v.UPSTREAM_MAX_JSON_BYTES,
    archiveMaxBytes: v.ARCHIVE_MAX_BYTES,
    archiveAllowedHosts: hostList(v.ARCHIVE_ALLOWED_HOSTS),
    upstreamMaxConcurrentTasks: v.UPSTREAM_MAX_CONCURRENT_TASKS || null,
    upstreamRequestsPerMinute: v.UPSTREAM_REQUESTS_PER_MINUTE || null,
    defaultTenantMaxConcurrentTasks: v.DEFAULT_TENANT_MAX_CONCURRENT_TASKS || null,
    defaultTenantRequestsPerMinute: v.DEFAULT_TENANT_REQUESTS_PER_MINUTE || null,
    sseMaxStreamsPerTask: v.SSE_MAX_STREAMS_PER_TASK,
    sseMaxStreamsPerTenant: v.SSE_MAX_STREAMS_PER_TENANT,
    uploadMaxBytes: v.UPLOAD_MAX_BYTES,
    allowHttpUrls: v.ALLOW_HTTP_URLS,
    allowPrivateUrls: v.ALLOW_PRIVATE_URLS,
    pricingMode: v.PRICING_MODE,
    videoUrlTtlSeconds: v.VIDEO_URL_TTL_SECONDS,
    videoRetentionMs: v.VIDEO_RETENTION_DAYS * 86_400_000,
    ledgerHotMs: v.LEDGER_HOT_DAYS * 86_400_000,
    videoCopyRetryBaseMs: v.VIDEO_COPY_RETRY_BASE_MS,
    turnstileSecretKey: v.TURNSTILE_SECRET_KEY,
    turnstileSiteKey: v.TURNSTILE_SITE_KEY,
    turnstileVerifyUrl: v.TURNSTILE_VERIFY_URL,
    demoPublishableKey: v.DEMO_PUBLISHABLE_KEY,
  };
  cache.set(env, config);
  return config;
}

/** `a.example, *.cdn.example` → lower-cased names; empty → null (no allow-list). */
function hostList(raw: string | undefined): string[] | null {
  const hosts = (raw ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase().replace(/\.$/, ""))
    .filter(Boolean);
  return hosts.length ? hosts : null;
}
