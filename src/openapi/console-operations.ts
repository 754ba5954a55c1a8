import { z } from "zod";
import { ROLES } from "../domain/operators";
import { BreakdownQuery, FailuresQuery } from "../routes/admin-insights";
import { KeyRotate } from "../routes/admin-keys";
import { AuditQuery, OperatorCreate } from "../routes/operators";
import { type Operation, TAGS } from "./operation";
import * as S from "./schemas";

const isoTime = z.iso.datetime();
const role = z.enum(ROLES);
const OperatorToken = z.object({
  id: z.string(),
  name: z.string(),
  role,
  prefix: z.string().describe("The first characters of the token, to recognise it"),
  created_at: isoTime,
  created_by: z.string().describe("`bootstrap` (ADMIN_TOKEN) or the id of the token that made it"),
  revoked_at: isoTime.nullable(),
  last_used_at: isoTime.nullable(),
});
const AuditEntry = z.object({
  id: z.number().int(),
  at: isoTime,
  actor: z.string().describe("`bootstrap` or an operator token's id"),
  actor_name: z.string(),
  role,
  action: z.string().describe("e.g. `tenant.create`, `key.rotate`, `tenant.credit`, `operator.revoke`"),
  target: z.string().describe("e.g. `tenant:acme`, `key:acme/key_…`"),
  before: z.unknown().describe("The target before the write (null for a create); never a secret"),
  after: z.unknown().describe("The target after the write; never a secret"),
  request_id: z.string(),
  status: z.number().int(),
});
const Usage = z.object({
  subject: z.string(),
  requests: z.number().int(),
  tasks: z.number().int(),
  charged_usd: z.number(),
  reserved_usd: z.number(),
  last_at: isoTime,
});
const TaskFailure = z.object({
  task_id: z.string(),
  key_id: z.string(),
  model: z.string(),
  status: z.string(),
  updated_at: isoTime,
  webhook: z
    .object({
      state: z.string(),
      attempts: z.number().int(),
      last_status: z.number().int().nullable(),
      last_error: z.string().nullable(),
      host: z.string().nullable(),
    })
    .nullable(),
  archive: z.object({ failed: z.number().int(), retrying: z.number().int(), last_error: z.string().nullable() }).nullable(),
});
const AlertFailure = z.object({
  scope: z.string(),
  subject: z.string(),
  period: z.string(),
  threshold_percent: z.number().int(),
  state: z.string(),
  attempts: z.number().int(),
  last_status: z.number().int().nullable(),
  created_at: isoTime,
});
const tenantId = { id: "Tenant id" };

/** The operator console's API (SPEC §15): who you are, operator tokens, the audit log, metrics, key rotation, usage and failures. */
export const CONSOLE_OPERATIONS: Operation[] = [
  {
    method: "post",
    path: "/admin/v1/tenants/{id}/keys/{keyId}/rotate",
    summary: "Rotate a key",
    description:
      "Issues a new key with the old one's settings (its key budget carries over); the old key keeps working until `overlap_seconds` (default 86400) from now, then is refused (billable requests by the tenant's object at once). The plaintext appears in this response only.",
    tag: TAGS.operator,
    auth: "admin",
    params: { ...tenantId, keyId: "Key id (key_…)" },
    body: KeyRotate,
    response: { status: 201, description: "The new key", schema: S.KeyCreated.extend({ rotated_from: z.object({ id: z.string(), expires_at: isoTime }) }) },
    errors: ["not_found", "conflict"],
  },
  {
    method: "get",
    path: "/admin/v1/tenants/{id}/breakdown",
    summary: "Use per key or per end user",
    description: "Requests reserved, tasks, money charged and still held, over the last `days` days, the biggest spenders first.",
    tag: TAGS.operator,
    auth: "admin",
    params: tenantId,
    query: BreakdownQuery,
    response: {
      description: "One row per key or end user",
      schema: z.object({ tenant_id: z.string(), by: z.enum(["key", "end_user"]), days: z.number().int(), rows: z.array(Usage) }),
    },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/admin/v1/tenants/{id}/failures",
    summary: "Failing webhook deliveries and video copies",
    description:
      "Tasks whose webhook failed (or is being retried after a failure) or whose archive copy failed, and budget alerts that could not be delivered.",
    tag: TAGS.operator,
    auth: "admin",
    params: tenantId,
    query: FailuresQuery,
    response: {
      description: "Failures, newest first",
      schema: z.object({ tenant_id: z.string(), tasks: z.array(TaskFailure), alerts: z.array(AlertFailure) }),
    },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/admin/v1/me",
    summary: "Who the operator token is",
    tag: TAGS.operator,
    auth: "admin",
    response: { description: "The caller", schema: z.object({ actor: z.string(), name: z.string(), role }) },
  },
  {
    method: "post",
    path: "/admin/v1/operators",
    summary: "Create an operator token (admin)",
    description:
      "`viewer` reads; `billing` also credits/debits, sets prices and exports ledgers; `admin` does everything. The token appears in this response only; the proxy keeps its SHA-256.",
    tag: TAGS.operator,
    auth: "admin",
    body: OperatorCreate,
    response: { status: 201, description: "The token", schema: OperatorToken.extend({ token: z.string().describe("opt_…; shown in this response only") }) },
  },
  {
    method: "get",
    path: "/admin/v1/operators",
    summary: "List operator tokens",
    tag: TAGS.operator,
    auth: "admin",
    response: { description: "Tokens (never the token, never its hash)", schema: z.object({ operators: z.array(OperatorToken) }) },
  },
  {
    method: "delete",
    path: "/admin/v1/operators/{tokenId}",
    summary: "Revoke an operator token (admin)",
    description: "Refused at once on every later request.",
    tag: TAGS.operator,
    auth: "admin",
    params: { tokenId: "Operator token id (op_…)" },
    response: { description: "The revoked token", schema: OperatorToken },
    errors: ["not_found"],
  },
  {
    method: "get",
    path: "/admin/v1/audit",
    summary: "The audit log of operator writes",
    description: "Append-only; newest first. Who (actor, role), what (action, target), before → after, when, and the request id. Never a secret.",
    tag: TAGS.operator,
    auth: "admin",
    query: AuditQuery,
    response: { description: "A page of entries", schema: z.object({ entries: z.array(AuditEntry), next_cursor: z.string().nullable() }) },
  },
  {
    method: "get",
    path: "/admin/v1/metrics",
    summary: "Metrics in Prometheus text format",
    description:
      "Requests by route and status, creates by service and model, RunAPI latency (histogram) and errors, webhook and archive failures (global counters), and per-tenant budget, spend, reservations and unfinished tasks (read at scrape).",
    tag: TAGS.operator,
    auth: "admin",
    response: { description: "Prometheus text exposition format 0.0.4", contentType: "text/plain; version=0.0.4" },
  },
];
