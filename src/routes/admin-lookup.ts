import type { Bindings } from "../env";
import { keyBudgetSubject, type KeyRecord, type TenantRecord } from "../domain/tenant";
import { AppError } from "../lib/errors";
import { getKeyById, getTenant, listKeys } from "../lib/tenant-store";

/** Ids as the operator API issues them; anything else is unknown (and never becomes a KV key name). */
const TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const KEY_ID = /^key_[A-Za-z0-9_-]{1,64}$/;

/** A tenant by id, or a 404. */
export async function mustGetTenant(env: Bindings, id: string): Promise<TenantRecord> {
  const tenant = TENANT_ID.test(id) ? await getTenant(env.TENANTS, id) : null;
  if (!tenant) throw new AppError("not_found", `No tenant ${id}`);
  return tenant;
}

/** One of a tenant's keys by id, with its hash, or a 404. */
export async function mustGetKey(env: Bindings, tenantId: string, keyId: string): Promise<{ key: KeyRecord; hash: string }> {
  const found = TENANT_ID.test(tenantId) && KEY_ID.test(keyId) ? await getKeyById(env.TENANTS, tenantId, keyId) : null;
  if (!found) throw new AppError("not_found", `No key ${keyId} for tenant ${tenantId}`);
  return found;
}

/** The budget scopes the operator sees for a tenant: the tenant's, and each live key's that has one. */
export async function tenantBudgets(env: Bindings, tenant: TenantRecord) {
  const keys = await listKeys(env.TENANTS, tenant.id);
  return [
    { scope: "tenant" as const, subject: tenant.id, ...tenant.budget },
    ...keys.filter((k) => k.budget && !k.revoked_at).map((k) => ({ scope: "key" as const, subject: keyBudgetSubject(k), ...k.budget! })),
  ];
}
