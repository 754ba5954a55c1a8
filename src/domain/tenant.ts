import { DEFAULT_ALERT_THRESHOLDS } from "./budget-alerts";
import { compositeKey } from "./composite-key";
import type { MarkupOverride } from "./markup";
import type { Micros } from "./money";

/** Budget periods: calendar windows in UTC (`week` starts Monday); `total` never resets. */
export type Period = "day" | "week" | "month" | "total";
export const PERIODS = ["day", "week", "month", "total"] as const;

/** A spending cap over a period. */
export interface Budget {
  limit_micros: Micros;
  period: Period;
}

/** A tenant as stored in KV under `tenant:{id}`. */
export interface TenantRecord {
  id: string;
  name: string;
  status: "active" | "disabled";
  budget: Budget;
  limits: {
    max_concurrent_tasks: number | null;
    requests_per_minute: number | null;
  };
  /** Models (or `service`, `service/action`) the tenant may use; null for all. */
  allowed_models: string[] | null;
  end_user_budget: Budget | null;
  webhook_url: string | null;
  /** The tenant's markup on RunAPI's prices, replacing the operator's default (SPEC §12); null or absent: the default. */
  markup_percent?: number | null;
  /** The tenant's markups per service/action/model, the most specific first. */
  markup_overrides?: MarkupOverride[];
  /** Percent of a budget at which `webhook_url` receives a `budget.threshold` alert; default 50, 80, 100. */
  alert_thresholds_percent?: number[];
  /** Its weight in sharing RunAPI's capacity with other tenants (SPEC §14); absent: 1. */
  capacity_weight?: number;
  /** Tasks in flight it gets first whenever it wants them, before weights share the rest; absent: 0. */
  capacity_floor?: number;
  /** Beyond its share, creates wait in its queue (`status: "queued"`) rather than being refused 429; absent: false. */
  queue?: boolean;
  /** Standard Webhooks signing secret (`whsec_…`); shown once, when set. */
  webhook_secret: string | null;
  created_at: string;
  updated_at: string;
}

/** An API key as stored in KV under `key:{sha256(key)}`; the plaintext is never stored. */
export interface KeyRecord {
  id: string;
  tenant_id: string;
  kind: "secret" | "publishable";
  name: string | null;
  /** The first characters of the key, to recognise it in listings. */
  prefix: string;
  budget: Budget | null;
  allowed_origins: string[] | null;
  /**
   * Models (or `service`, `service/action`) requests with this key may use, within the tenant's own list; null or
   * absent: the tenant's list alone. On a publishable key it is also what `/demo` offers (absent: the Hailuo models).
   */
  allowed_models?: string[] | null;
  /** Publishable keys: billable requests per minute for each end user (visitor). */
  end_user_requests_per_minute?: number | null;
  expires_at: string | null;
  revoked_at: string | null;
  created_at: string;
  /** Set on a key made by rotating another: the first key of the chain, whose key budget this key shares. */
  budget_key_id?: string | null;
  /** Set on a rotated key: the key that replaced it (this one works until its `expires_at`). */
  replaced_by?: string | null;
}

/** The subject of a key's budget: the first key of its rotation chain, so rotating never resets a key budget. */
export function keyBudgetSubject(key: KeyRecord): string {
  return key.budget_key_id ?? key.id;
}

/** Who is calling, set by the tenant auth middleware. */
export interface AuthContext {
  tenant: TenantRecord;
  key: KeyRecord;
  /** How the caller proved itself: an API key, or an end-user token minted with that key. */
  via: "key" | "end_user_token";
  /** The end user a request is made for: a token's `sub`, or the client IP for a publishable key. */
  endUser: string | null;
}

/** `end_user_requests_per_minute` when a publishable key does not say (SPEC §4). */
export const DEFAULT_END_USER_RPM = 5;

/** The per-end-user limit of a request: a publishable key's own (default 5) when used as is; none otherwise. */
export function endUserRequestsPerMinute(auth: AuthContext): number | null {
  if (auth.via !== "key" || auth.key.kind !== "publishable") return null;
  return auth.key.end_user_requests_per_minute ?? DEFAULT_END_USER_RPM;
}

/** Whose tasks a caller may see. */
export interface TaskViewer {
  tenantId: string;
  /** Set when the caller may only see tasks made with this key. */
  keyId?: string;
  /** Set when the caller may only see this end user's tasks. */
  endUser?: string | null;
}

/**
 * A secret key sees all of its tenant's tasks. A publishable key or an end-user token runs in
 * someone's browser: it sees only tasks made with the same key for the same end user.
 */
export function taskViewer(auth: AuthContext): TaskViewer {
  if (isBackend(auth)) return { tenantId: auth.tenant.id };
  return { tenantId: auth.tenant.id, keyId: auth.key.id, endUser: auth.endUser };
}

/** Whether `viewer` may see a task with these owners. */
export function canView(viewer: TaskViewer, task: { tenant_id: string; key_id: string; end_user: string | null }): boolean {
  return (
    task.tenant_id === viewer.tenantId &&
    (viewer.keyId === undefined || task.key_id === viewer.keyId) &&
    (viewer.endUser === undefined || task.end_user === viewer.endUser)
  );
}

/** A tenant's own server (a secret key), as opposed to a browser-side caller (publishable key, end-user token). */
export function isBackend(auth: AuthContext): boolean {
  return auth.via === "key" && auth.key.kind === "secret";
}

/** The budget alert thresholds in force for a tenant: none without a webhook to send them to. */
export function alertThresholds(tenant: TenantRecord): readonly number[] {
  return tenant.webhook_url ? (tenant.alert_thresholds_percent ?? DEFAULT_ALERT_THRESHOLDS) : [];
}

/**
 * The Idempotency-Key as stored: it belongs to one credential (the key, and for a browser-side
 * caller its end user too), so two callers never replay, block or probe each other's requests.
 * Encoded as a composite key, so no end user or key text can spell another caller's scope.
 */
export function idempotencyScope(auth: AuthContext, key: string): string {
  return compositeKey(auth.key.id, isBackend(auth) ? null : auth.endUser, key);
}

/**
 * The key the proxy derives for a create sent without an Idempotency-Key (SPEC §13): the credential, its end user
 * and the request's hash. Four parts where a client's scoped key has three, so the two never meet.
 */
export function derivedIdempotencyScope(auth: AuthContext, bodyHash: string): string {
  return compositeKey("derived", auth.key.id, isBackend(auth) ? null : auth.endUser, bodyHash);
}

/** The budget scopes a caller may see: a browser-side caller sees its own (key, end user), never the tenant's. */
export function visibleScopes<T extends { scope: string }>(auth: AuthContext, scopes: T[]): T[] {
  return isBackend(auth) ? scopes : scopes.filter((s) => s.scope !== "tenant");
}

/** Whether a tenant may use a model of an action: `allowed_models` lists models, services or `service/action` pairs. */
export function modelAllowed(allowed: readonly string[] | null, target: { service: string; action: string; model: string | null }): boolean {
  if (!allowed) return true;
  return allowed.some((a) => a === target.model || a === target.service || a === `${target.service}/${target.action}`);
}

/** Which list refuses a request: the tenant's, the key's, or none (both allow it). */
export function modelRefusedBy(auth: AuthContext, target: { service: string; action: string; model: string | null }): "tenant" | "key" | null {
  if (!modelAllowed(auth.tenant.allowed_models, target)) return "tenant";
  if (!modelAllowed(auth.key.allowed_models ?? null, target)) return "key";
  return null;
}

/** A tenant's own markup config, when it has one. */
export function tenantMarkup(t: TenantRecord): { markup_percent?: number; overrides?: MarkupOverride[] } {
  return {
    ...(t.markup_percent !== undefined && t.markup_percent !== null ? { markup_percent: t.markup_percent } : {}),
    ...(t.markup_overrides?.length ? { overrides: t.markup_overrides } : {}),
  };
}

/**
 * A create's claim on RunAPI's capacity (SPEC §14): the tenant's weight and floor, and whether it waits in the queue beyond
 * the tenant's share: when the request says `Prefer: respond-async, queue` (RFC 7240; `queue=never` refuses instead), else
 * the tenant's own `queue` default.
 */
export function capacityClaim(tenant: TenantRecord, prefer: string | undefined): { weight: number; floor: number; queue: boolean } {
  const tokens = (prefer ?? "")
    .split(",")
    .map((t) => t.trim().toLowerCase().replace(/\s+/g, ""))
    .filter(Boolean);
  const asked = tokens.includes("queue") || tokens.includes("queue=always") ? true : tokens.includes("queue=never") ? false : null;
  return { weight: tenant.capacity_weight ?? 1, floor: tenant.capacity_floor ?? 0, queue: asked ?? tenant.queue === true };
}
