/** Operators of the proxy: roles, what each may do, their tokens and the audit log's entries (SPEC §15). */

/** `viewer` reads; `billing` also credits/debits, sets prices and exports ledgers; `admin` does everything. */
export type Role = "viewer" | "billing" | "admin";
export const ROLES = ["viewer", "billing", "admin"] as const;
const RANK: Record<Role, number> = { viewer: 0, billing: 1, admin: 2 };

/** The bootstrap operator: whoever holds `ADMIN_TOKEN`. */
export const BOOTSTRAP_ACTOR = "bootstrap";

/** Operator tokens start so; the rest is 192 random bits, base64url. */
export const OPERATOR_TOKEN_PREFIX = "opt_";

/** Who is calling the operator API. */
export interface OperatorContext {
  /** `bootstrap` (ADMIN_TOKEN) or the operator token's id. */
  actor: string;
  name: string;
  role: Role;
}

/**
 * Operator routes that need more than the default: a read needs `viewer`, a write `admin`, except these.
 * Keys are `METHOD route-pattern` as the router matched it.
 */
const NEEDS: Record<string, Role> = {
  "GET /admin/v1/tenants/:id/ledger": "billing",
  "POST /admin/v1/tenants/:id/adjustments": "billing",
  "PUT /admin/v1/prices": "billing",
  "POST /admin/v1/prices/sync": "billing",
};

/** The least role that may call `method route`: reads are for viewers, writes for admins, unless `NEEDS` says otherwise. */
export function requiredRole(method: string, route: string): Role {
  return NEEDS[`${method} ${route}`] ?? (method === "GET" || method === "HEAD" ? "viewer" : "admin");
}

/** Whether `role` includes `needed`. */
export function roleAllows(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/** An operator token as the operator API shows it (never the token, never its hash). */
export interface OperatorToken {
  id: string;
  name: string;
  role: Role;
  /** The first characters of the token, to recognise it. */
  prefix: string;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** What a handler says about its write, for the audit log. */
export interface AuditDraft {
  action: string;
  target: string;
  before?: unknown;
  after?: unknown;
}

/** One entry of the append-only audit log. */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  actor_name: string;
  role: Role;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
  request_id: string;
  status: number;
}

/** Property names whose values are secrets: the audit log keeps that they were set, never the value. */
const SECRET_FIELDS = new Set(["key", "token", "webhook_secret", "secret", "plaintext", "hash", "key_hash", "token_hash"]);
/** Values that look like a credential this proxy issues (full length, not a listing's short prefix). */
const SECRET_VALUE = /^(sk|pk|opt|eut)_[A-Za-z0-9_-]{16,}|^whsec_|^adm_/;

/**
 * A copy of `value` safe for the audit log: secret fields become `"[redacted]"`, and so does any string
 * that looks like a key, token or signing secret. Depth- and size-bounded.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === "string") return SECRET_VALUE.test(value) ? "[redacted]" : value.slice(0, 2_000);
  if (typeof value !== "object" || depth > 6) return typeof value === "object" ? "[…]" : value;
  if (Array.isArray(value)) return value.slice(0, 200).map((v) => redactSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELDS.has(k) && v !== null ? "[redacted]" : redactSecrets(v, depth + 1);
  return out;
}
