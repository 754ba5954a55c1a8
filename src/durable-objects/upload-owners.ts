import type { ReserveRequest, ReserveResult, ScopeState } from "../domain/ledger";
import { canView, type TaskViewer } from "../domain/tenant";
import { UPLOAD_RECORD_TTL_MS, type UploadKind, type UploadOwner } from "../domain/uploads";
import type { LedgerStore } from "./ledger-store";

/** One call of RunAPI's upload endpoints, as the tenant's object admits it. */
export interface UploadAdmission {
  /** The hold's id (a UUID): its price is held under it when there is one. */
  holdId: string;
  keyId: string;
  endUser: string | null;
  /** The tenant's price of the call (0: free, only counted). */
  amountMicros: number;
  costMicros: number;
  now: number;
  /** The budgets a priced call must fit (a free call needs none). */
  budgets: ReserveRequest["budgets"];
  requestsPerMinute: number | null;
  endUserRequestsPerMinute: number | null;
  alertThresholds: readonly number[];
  /** The upload the call goes on with (confirm, parts, complete, cancel): the caller must be allowed to see it. */
  upload?: { kind: UploadKind; id: string; viewer: TaskViewer };
}

/** The object's answer: admitted (with the budgets after a hold), a refusal, or no such upload of the caller's. */
export type UploadAdmitResult =
  | { ok: true; budgets: ScopeState[] }
  | Exclude<ReserveResult, { ok: true } | { code: "idempotent_replay" }>
  | { ok: false; code: "not_found" };

/** The model name a priced upload's ledger entries carry. */
const UPLOAD_MODEL = "files/upload";

/**
 * Who made each upload of the tenant (SPEC §12): RunAPI's signed ids and upload ids, with the key and end user
 * that made them, so another tenant (whose object has no row) or another visitor cannot confirm, complete,
 * cancel or add to them. Rows are forgotten after `UPLOAD_RECORD_TTL_MS`. Synchronous: runs in the caller's
 * transaction.
 */
export class UploadOwners {
  constructor(private readonly sql: SqlStorage) {}

  /** Remembers who made an upload; forgets rows past their time. */
  record(owner: UploadOwner, now: number): void {
    this.sql.exec("DELETE FROM upload_owners WHERE created_at <= ?", now - UPLOAD_RECORD_TTL_MS);
    this.sql.exec(
      "INSERT OR IGNORE INTO upload_owners (kind, upload_id, key_id, end_user, created_at) VALUES (?, ?, ?, ?, ?)",
      owner.kind,
      owner.id,
      owner.keyId,
      owner.endUser,
      now,
    );
  }

  /** Whether `viewer` may go on with an upload: made by this tenant, recently, by a caller it may see. */
  visible(kind: UploadKind, id: string, viewer: TaskViewer, now: number): boolean {
    const row = this.sql
      .exec<{ key_id: string; end_user: string | null }>(
        "SELECT key_id, end_user FROM upload_owners WHERE kind = ? AND upload_id = ? AND created_at > ?",
        kind,
        id,
        now - UPLOAD_RECORD_TTL_MS,
      )
      .toArray()[0];
    return !!row && canView(viewer, { tenant_id: viewer.tenantId, key_id: row.key_id, end_user: row.end_user });
  }

  /**
   * Admits one upload call, in one synchronous stretch: the upload it names must be the caller's; revocation,
   * suspension and the per-minute limits apply to every call; a priced call holds its price (budgets checked),
   * a free one is only counted. `objectNow` is the object's clock (for records' ages).
   */
  admit(ledger: LedgerStore, req: UploadAdmission, objectNow: number, holdUntil: number): UploadAdmitResult {
    if (req.upload && !this.visible(req.upload.kind, req.upload.id, req.upload.viewer, objectNow)) return { ok: false, code: "not_found" };
    const priced = req.amountMicros > 0;
    const reserve: ReserveRequest = {
      taskId: req.holdId,
      keyId: req.keyId,
      endUser: req.endUser,
      model: UPLOAD_MODEL,
      amountMicros: req.amountMicros,
      costMicros: req.costMicros,
      now: req.now,
      budgets: priced ? req.budgets : [],
      maxConcurrentTasks: null,
      requestsPerMinute: req.requestsPerMinute,
      endUserRequestsPerMinute: req.endUserRequestsPerMinute,
      alertThresholds: req.alertThresholds,
      idempotency: null,
    };
    const refused = ledger.admit(reserve, "hold");
    if (refused) return refused.code === "idempotent_replay" ? { ok: false, code: "idempotency_conflict" } : refused;
    if (!priced) {
      ledger.count(reserve);
      return { ok: true, budgets: [] };
    }
    return { ok: true, budgets: ledger.hold(reserve, "hold", holdUntil) };
  }
}
