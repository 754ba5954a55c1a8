import type { Bindings } from "../env";
import { ledgerStub } from "../lib/stubs";
import { findKeyById, getTenant } from "../lib/tenant-store";

/**
 * Revocation reaches links (SPEC §13): an archived file's signed links stop working once its tenant is disabled or
 * the key that created its task is revoked, and work again when the tenant is enabled again. Checked on every
 * request for the file, cheaply: the owner is in the R2 object's metadata (read with the `head` the route makes
 * anyway), and the tenant and key records are KV reads memoised in the isolate (10 s) over KV's edge cache (30 s),
 * so a playing video's range requests cost no Durable Object call and no KV round trip of their own. A change made
 * anywhere reaches every isolate within MEMO_MS + READ_CACHE_TTL (40 s); one made through this isolate, at once.
 */

/** Why an archived file's links no longer work. */
export type LinkRefusal = "tenant_disabled" | "key_revoked" | "unknown_owner";

/** Who an archived file belongs to, as its R2 object says: the tenant, and the key that created the task (absent on older objects). */
export interface FileOwner {
  tenantId: string | undefined;
  keyId: string | undefined;
  taskId: string;
}

/** Tasks' keys looked up for objects stored before the key was stored with them; a task's key never changes. */
const legacyKeys = new Map<string, string>();
const LEGACY_KEYS_MAX = 10_000;

/** Why the file's links no longer work, or null when they do (`now`: the memo's clock, for tests). */
export async function linkRefusal(env: Bindings, owner: FileOwner, now = Date.now()): Promise<LinkRefusal | null> {
  if (!owner.tenantId) return "unknown_owner";
  const tenant = await getTenant(env.TENANTS, owner.tenantId, now);
  if (tenant?.status !== "active") return "tenant_disabled";
  const keyId = owner.keyId ?? (await legacyKeyOf(env, owner.tenantId, owner.taskId));
  if (!keyId) return "unknown_owner";
  const key = await findKeyById(env.TENANTS, owner.tenantId, keyId, now);
  return !key || key.revoked_at ? "key_revoked" : null;
}

/**
 * The key of a task whose files were archived before objects carried it (`videos/…`, within VIDEO_RETENTION_DAYS
 * of this change): asked of the tenant's object once per isolate and task, then remembered.
 */
async function legacyKeyOf(env: Bindings, tenantId: string, taskId: string): Promise<string | null> {
  const known = legacyKeys.get(taskId);
  if (known) return known;
  const keyId = await ledgerStub(env, tenantId).taskKeyId(taskId);
  if (!keyId) return null;
  if (legacyKeys.size >= LEGACY_KEYS_MAX) legacyKeys.delete(legacyKeys.keys().next().value!);
  legacyKeys.set(taskId, keyId);
  return keyId;
}
