import type { KeyRecord, TenantRecord } from "../domain/tenant";
import { sha256Hex } from "./crypto";

/**
 * Tenants and keys in Workers KV. Layout:
 *   tenant:{id}            → TenantRecord
 *   key:{sha256(key)}      → KeyRecord (the plaintext key is never stored)
 *   tkey:{tenantId}:{kid}  → { hash }  (to list and revoke a tenant's keys)
 * KV is eventually consistent (≈60 s): budgets and revocation of billable use live in the ledger object.
 */

/** Seconds KV's edge may serve a tenant or key record after a change (its minimum cacheTtl). */
export const READ_CACHE_TTL = 30;

/**
 * Lookups are also memoised in the isolate for a few seconds: well inside KV's own
 * propagation delay, and billable use is re-checked by the tenant's ledger (revocation, suspension).
 * Writes made through this module drop their entries at once. A write elsewhere is seen here within
 * MEMO_MS + READ_CACHE_TTL (40 s): archive links rely on it (SPEC §13, docs/video-archive.md).
 */
export const MEMO_MS = 10_000;
const MEMO_MAX = 5_000;
const memo = new Map<string, { value: unknown; at: number }>();

async function memoised<T>(cacheKey: string, load: () => Promise<T>, now = Date.now()): Promise<T> {
  const hit = memo.get(cacheKey);
  // An entry from the future (another clock: a test's, or a request that saw a later time) is not trusted.
  if (hit && now >= hit.at && now - hit.at < MEMO_MS) return hit.value as T;
  const value = await load();
  if (memo.size >= MEMO_MAX) memo.delete(memo.keys().next().value!);
  memo.set(cacheKey, { value, at: now });
  return value;
}

/** Reads a tenant, or null (`now`: the memo's clock, for tests). */
export async function getTenant(kv: KVNamespace, id: string, now?: number): Promise<TenantRecord | null> {
  return memoised(`tenant:${id}`, () => kv.get<TenantRecord>(`tenant:${id}`, { type: "json", cacheTtl: READ_CACHE_TTL }), now);
}

/** Writes a tenant. */
export async function putTenant(kv: KVNamespace, tenant: TenantRecord): Promise<void> {
  await kv.put(`tenant:${tenant.id}`, JSON.stringify(tenant));
  memo.delete(`tenant:${tenant.id}`);
}

/** Lists tenants in id order, one KV page at a time. */
export async function listTenants(kv: KVNamespace, opts: { limit: number; cursor?: string }) {
  const page = await kv.list({ prefix: "tenant:", limit: opts.limit, cursor: opts.cursor });
  const tenants = await Promise.all(page.keys.map((k) => kv.get<TenantRecord>(k.name, "json")));
  return {
    tenants: tenants.filter((t): t is TenantRecord => t !== null),
    next_cursor: page.list_complete ? null : page.cursor,
  };
}

/** Finds the key record for a plaintext key, by its hash. */
export async function findKey(kv: KVNamespace, plaintext: string): Promise<KeyRecord | null> {
  const name = `key:${await sha256Hex(plaintext)}`;
  return memoised(name, () => kv.get<KeyRecord>(name, { type: "json", cacheTtl: READ_CACHE_TTL }));
}

/** Stores a new key under its hash and indexes it under its tenant. */
export async function putKey(kv: KVNamespace, key: KeyRecord, hash: string): Promise<void> {
  await kv.put(`key:${hash}`, JSON.stringify(key));
  await kv.put(`tkey:${key.tenant_id}:${key.id}`, JSON.stringify({ hash }));
  memo.delete(`key:${hash}`);
  memo.delete(`tkey:${key.tenant_id}:${key.id}`);
}

/** Reads one of a tenant's keys by id, with its hash. */
export async function getKeyById(kv: KVNamespace, tenantId: string, keyId: string) {
  const index = await kv.get<{ hash: string }>(`tkey:${tenantId}:${keyId}`, "json");
  if (!index) return null;
  const key = await kv.get<KeyRecord>(`key:${index.hash}`, "json");
  return key ? { key, hash: index.hash } : null;
}

/** One of a tenant's keys by id, read as auth reads keys (memoised, edge-cached), or null (`now`: the memo's clock, for tests). */
export async function findKeyById(kv: KVNamespace, tenantId: string, keyId: string, now?: number): Promise<KeyRecord | null> {
  const name = `tkey:${tenantId}:${keyId}`;
  const index = await memoised(name, () => kv.get<{ hash: string }>(name, { type: "json", cacheTtl: READ_CACHE_TTL }), now);
  if (!index) return null;
  const key = `key:${index.hash}`;
  return memoised(key, () => kv.get<KeyRecord>(key, { type: "json", cacheTtl: READ_CACHE_TTL }), now);
}

/** Rewrites a key record in place (revocation). */
export async function updateKey(kv: KVNamespace, key: KeyRecord, hash: string): Promise<void> {
  await kv.put(`key:${hash}`, JSON.stringify(key));
  memo.delete(`key:${hash}`);
}

/** Lists a tenant's keys (without secrets). */
export async function listKeys(kv: KVNamespace, tenantId: string): Promise<KeyRecord[]> {
  const page = await kv.list({ prefix: `tkey:${tenantId}:` });
  const keys = await Promise.all(
    page.keys.map(async (k) => {
      const index = await kv.get<{ hash: string }>(k.name, "json");
      return index ? kv.get<KeyRecord>(`key:${index.hash}`, "json") : null;
    }),
  );
  return keys.filter((k): k is KeyRecord => k !== null);
}
