import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "../lib/errors";
import { NAMED_SCHEMAS, OPERATIONS, TAGS, type Operation } from "./registry";
import { BudgetThreshold, ErrorBody, Task } from "./schemas";

type JsonSchema = Record<string, unknown>;
type Io = "input" | "output";

const TAG_DESCRIPTIONS: Record<string, string> = {
  [TAGS.catalog]: "Every RunAPI action at RunAPI's own paths and bodies (Kling, Veo, Suno, Flux, Hailuo…): change the base URL and the key, nothing else.",
  [TAGS.tasks]: "The caller's tasks, from the tenant's own records.",
  [TAGS.account]: "Who the caller is, what things cost, and RunAPI's account endpoints.",
  [TAGS.openai]: "OpenAI-compatible chat, metered like video.",
  [TAGS.mcp]: "A remote MCP server (Streamable HTTP) with RunAPI's business tools.",
  [TAGS.uploads]:
    "RunAPI's upload endpoints at its own paths, the key swapped: bodies bounded by UPLOAD_MAX_BYTES, every call counted against the key's per-minute limits, a file charged only when RunAPI's schedule prices uploads. Only the caller that opened an upload may go on with it.",
  [TAGS.operator]:
    "Tenants, keys, budgets, the ledger, prices, operator tokens, the audit log and metrics. Bearer ADMIN_TOKEN or an operator token: `viewer` reads, `billing` also credits, sets prices and exports ledgers, `admin` does everything (403 `forbidden` otherwise).",
  [TAGS.pages]: "HTML pages served by the proxy.",
  [TAGS.system]: "Health, RunAPI's callback, archived files, this document.",
};

/** zod → JSON Schema (2020-12, what OpenAPI 3.1 uses); refinements and transforms cannot be expressed and are left out. */
function toJson(schema: z.ZodType, io: Io): JsonSchema {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as JsonSchema;
  return json;
}

/** Errors an operation can answer with: its own, plus those its auth and input imply. */
function errorCodes(op: Operation): ErrorCode[] {
  const codes = new Set<ErrorCode>(op.errors ?? []);
  const implied: ErrorCode[] = [];
  if (op.auth === "tenant") implied.push("unauthorized", "forbidden");
  if (op.auth === "admin") implied.push("unauthorized", "forbidden");
  if (op.query) implied.push("invalid_request");
  if (op.body) implied.push("invalid_request", "payload_too_large", "unsupported_media_type");
  for (const code of implied) codes.add(code);
  codes.add("internal_error");
  return [...codes];
}

function build(): Record<string, unknown> {
  const components: Record<string, JsonSchema> = {};
  const ref = (schema: z.ZodType, io: Io): JsonSchema => {
    const name = NAMED_SCHEMAS.get(schema);
    if (!name) return toJson(schema, io);
    components[name] ??= toJson(schema, io);
    return { $ref: `#/components/schemas/${name}` };
  };
  ref(ErrorBody, "output");

  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const parameters: unknown[] = [];
    for (const [, name] of op.path.matchAll(/\{(\w+)\}/g)) {
      parameters.push({ name, in: "path", required: true, schema: { type: "string" }, ...(op.params?.[name!] ? { description: op.params[name!] } : {}) });
    }
    if (op.query) {
      const q = toJson(op.query, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        const { description, ...rest } = schema;
        parameters.push({ name, in: "query", required: q.required?.includes(name) ?? false, schema: rest, ...(description ? { description } : {}) });
      }
    }
    if (op.method === "post" && op.path.startsWith("/api/v1/hailuo/")) {
      parameters.push({
        name: "Idempotency-Key",
        in: "header",
        required: false,
        schema: { type: "string", minLength: 1, maxLength: 512 },
        description: "Replays the first answer for 24 h",
      });
    }

    const requestId = { "X-Request-Id": { description: "The request's id (also in every error body)", schema: { type: "string" } } };
    const ok = op.response;
    const responses: Record<string, unknown> = {
      [String(ok.status ?? 200)]: {
        description: ok.description,
        headers: requestId,
        ...(ok.schema || ok.contentType ? { content: { [ok.contentType ?? "application/json"]: { schema: ok.schema ? ref(ok.schema, "output") : {} } } } : {}),
      },
    };
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of errorCodes(op)) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
    for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
      responses[String(status)] = {
        description: codes.map((c) => `\`${c}\``).join(", "),
        headers: status === 429 ? { ...requestId, "Retry-After": { description: "Seconds to wait", schema: { type: "integer" } } } : requestId,
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      };
    }

    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, "by_$1").replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ? ch.toUpperCase() : ""))}`,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: [op.tag],
      security: op.auth === "tenant" ? [{ tenantKey: [] }, { tenantApiKeyHeader: [] }] : op.auth === "admin" ? [{ adminToken: [] }] : [],
      // A call that can be refused for budget reserves money: /docs asks before sending one.
      ...(errorCodes(op).includes("budget_exceeded") ? { "x-billable": true } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(op.body ? { requestBody: { required: true, content: { [op.bodyContentType ?? "application/json"]: { schema: ref(op.body, "input") } } } } : {}),
      responses,
    };
  }

  const signed = (summary: string, description: string, body: JsonSchema) => ({
    post: {
      summary,
      description: `${description} Signed per Standard Webhooks with the tenant's \`whsec_…\` secret; retried with backoff on non-2xx.`,
      parameters: ["webhook-id", "webhook-timestamp", "webhook-signature"].map((name) => ({ name, in: "header", required: true, schema: { type: "string" } })),
      requestBody: { required: true, content: { "application/json": { schema: body } } },
      responses: { "200": { description: "Any 2xx acknowledges the delivery" } },
    },
  });
  const webhooks = {
    "task.terminal": signed(
      "A task reached a terminal state",
      "POSTed to the request's `callback_url` or the tenant's `webhook_url`: the task as `GET /api/v1/tasks/{id}` shows it.",
      ref(Task, "output"),
    ),
    "budget.threshold": signed(
      "A budget crossed an alert threshold",
      "Once per scope, period and threshold (`alert_thresholds_percent`, default 50/80/100), to the tenant's `webhook_url`.",
      toJson(BudgetThreshold, "output"),
    ),
  };

  return {
    openapi: "3.1.0",
    info: {
      title: "runapi-edge-proxy",
      version: "0.1.0",
      summary: "Edge gateway for RunAPI's Hailuo video and OpenAI-compatible chat",
      description:
        "Clients call with their own key; the proxy prices every billable request, reserves it against the tenant's budgets, and forwards it with the one upstream key. " +
        "Money is USD with 6 decimals. Every error is `{error: {code, message, request_id, details?}}` with `X-Request-Id`.",
      license: { name: "MIT", identifier: "MIT" },
    },
    tags: Object.values(TAGS).map((name) => ({ name, description: TAG_DESCRIPTIONS[name] })),
    paths,
    webhooks,
    components: {
      schemas: components,
      securitySchemes: {
        tenantKey: { type: "http", scheme: "bearer", description: "A tenant key (sk_… or pk_…) or an end-user token" },
        tenantApiKeyHeader: { type: "apiKey", in: "header", name: "x-api-key", description: "The same key in x-api-key" },
        adminToken: {
          type: "http",
          scheme: "bearer",
          description: "The operator's ADMIN_TOKEN (the bootstrap admin) or an operator token (opt_…) with a role",
        },
      },
    },
  };
}

let cached: Record<string, unknown> | undefined;

/** The OpenAPI 3.1 document, built once per isolate; `serverUrl` is where this deployment answers. */
export function openApiDocument(serverUrl?: string): Record<string, unknown> {
  cached ??= build();
  return serverUrl ? { ...cached, servers: [{ url: serverUrl }] } : cached;
}
