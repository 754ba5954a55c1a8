import { DurableObject } from "cloudflare:workers";
import { type AuditDraft, type AuditEntry, type OperatorContext, type OperatorToken, type Role, redactSecrets } from "../domain/operators";
import type { Bindings } from "../env";

type TokenRow = {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
  last_used_at: number | null;
};
type AuditRow = Omit<AuditEntry, "at" | "before" | "after"> & { at: number; before: string | null; after: string | null };

/** How often a token's `last_used_at` is rewritten (a scrape every few seconds must not write every time). */
const LAST_USED_EVERY_MS = 60_000;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The operators' object, one for the deployment: their tokens (SHA-256 hashes only) and the append-only
 * audit log of every operator write. SQLite in one object, so appends are atomic and ordered and a
 * revoked token is refused at once everywhere.
 */
export class OperatorLog extends DurableObject<Bindings> {
  /** The object's clock; tests move it instead of rewriting storage. */
  clock: () => number = () => Date.now();

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, actor_name TEXT NOT NULL,
        role TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, before TEXT, after TEXT, request_id TEXT NOT NULL, status INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS audit_at ON audit (at, id);
      CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL, prefix TEXT NOT NULL,
        created_at INTEGER NOT NULL, created_by TEXT NOT NULL, revoked_at INTEGER, last_used_at INTEGER);
    `);
  }

  /** Appends one entry; secrets in `before`/`after` are redacted here too, whatever the caller sent. */
  append(who: OperatorContext, draft: AuditDraft, requestId: string, status: number): AuditEntry {
    const before = draft.before === undefined ? null : JSON.stringify(redactSecrets(draft.before));
    const after = draft.after === undefined ? null : JSON.stringify(redactSecrets(draft.after));
    const row = this.ctx.storage.sql
      .exec<AuditRow>(
        `INSERT INTO audit (at, actor, actor_name, role, action, target, before, after, request_id, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        this.clock(),
        who.actor,
        who.name,
        who.role,
        draft.action,
        draft.target,
        before,
        after,
        requestId,
        status,
      )
      .one();
    return entryOf(row);
  }

  /** Entries newest first, `from` ≤ at < `to`; `cursor` is the previous page's `next_cursor` (an entry id). */
  audit(opts: { from?: number; to?: number; limit: number; cursor?: number }): { entries: AuditEntry[]; next_cursor: string | null } {
    const limit = Math.min(Math.max(Math.trunc(opts.limit) || 1, 1), 1000);
    const rows = this.ctx.storage.sql
      .exec<AuditRow>(
        "SELECT * FROM audit WHERE at >= ? AND at < ? AND id < ? ORDER BY id DESC LIMIT ?",
        opts.from ?? 0,
        opts.to ?? Number.MAX_SAFE_INTEGER,
        opts.cursor ?? Number.MAX_SAFE_INTEGER,
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    return { entries: page.map(entryOf), next_cursor: rows.length > limit ? String(page[page.length - 1]!.id) : null };
  }

  /** Stores a new token under its hash. */
  createToken(t: { id: string; hash: string; name: string; role: Role; prefix: string; createdBy: string }): OperatorToken {
    const row = this.ctx.storage.sql
      .exec<TokenRow>(
        "INSERT INTO tokens (id, hash, name, role, prefix, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
        t.id,
        t.hash,
        t.name,
        t.role,
        t.prefix,
        this.clock(),
        t.createdBy,
      )
      .one();
    return tokenOf(row);
  }

  /** The operator a token hash belongs to, unless unknown or revoked. */
  authenticate(hash: string): OperatorContext | null {
    const sql = this.ctx.storage.sql;
    const row = sql.exec<TokenRow & { hash: string }>("SELECT * FROM tokens WHERE hash = ?", hash).toArray()[0];
    if (!row || row.revoked_at !== null) return null;
    const now = this.clock();
    if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_EVERY_MS) sql.exec("UPDATE tokens SET last_used_at = ? WHERE id = ?", now, row.id);
    return { actor: row.id, name: row.name, role: row.role };
  }

  listTokens(): OperatorToken[] {
    return this.ctx.storage.sql.exec<TokenRow>("SELECT * FROM tokens ORDER BY created_at DESC, id").toArray().map(tokenOf);
  }

  getToken(id: string): OperatorToken | null {
    const row = this.ctx.storage.sql.exec<TokenRow>("SELECT * FROM tokens WHERE id = ?", id).toArray()[0];
    return row ? tokenOf(row) : null;
  }

  /** Revokes a token at once (every later request with it is a 401); null for an unknown id. */
  revokeToken(id: string): OperatorToken | null {
    this.ctx.storage.sql.exec("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", this.clock(), id);
    return this.getToken(id);
  }
}

function tokenOf(r: TokenRow): OperatorToken {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    prefix: r.prefix,
    created_at: iso(r.created_at)!,
    created_by: r.created_by,
    revoked_at: iso(r.revoked_at),
    last_used_at: iso(r.last_used_at),
  };
}

function entryOf(r: AuditRow): AuditEntry {
  return {
    ...r,
    at: new Date(r.at).toISOString(),
    before: r.before === null ? null : JSON.parse(r.before),
    after: r.after === null ? null : JSON.parse(r.after),
  };
}
