import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import type { KeyRecord } from "../domain/tenant";
import { randomToken, sha256Hex } from "../lib/crypto";
import { AppError } from "../lib/errors";
import { ledgerStub } from "../lib/stubs";
import { listKeys, putKey, updateKey } from "../lib/tenant-store";
import { parseBody } from "../lib/validate";
import { auditAs } from "../middleware/audit";
import { mustGetKey, mustGetTenant } from "./admin-lookup";
import { KeyCreate, keyJson } from "./admin-schemas";

/** How long a rotated key keeps working when the operator does not say (SPEC §15: 24 h). */
export const DEFAULT_OVERLAP_SECONDS = 86_400;

/** `POST /admin/v1/tenants/{id}/keys/{keyId}/rotate`: how long the old key keeps working, 0 (stops now) to 30 days. */
export const KeyRotate = z
  .object({
    overlap_seconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .default(DEFAULT_OVERLAP_SECONDS),
  })
  .strict();

/** A new key's plaintext (≥ 128 random bits: 24 bytes) and the record KV keeps under its hash. */
function issue(fields: Omit<KeyRecord, "id" | "prefix" | "revoked_at" | "created_at">) {
  const plaintext = randomToken(fields.kind === "secret" ? "sk_" : "pk_", 24);
  const key: KeyRecord = {
    ...fields,
    id: randomToken("key_", 9),
    prefix: plaintext.slice(0, 10),
    revoked_at: null,
    created_at: new Date().toISOString(),
  };
  return { key, plaintext };
}

/** A tenant's API keys: issue (plaintext shown once), list, revoke, rotate with an overlap. */
export const adminKeys = new Hono<AppEnv>()
  .post("/tenants/:id/keys", async (c) => {
    const tenant = await mustGetTenant(c.env, c.req.param("id"));
    const input = await parseBody(c, KeyCreate);
    const { key, plaintext } = issue({
      tenant_id: tenant.id,
      kind: input.kind,
      name: input.name ?? null,
      budget: input.budget ?? null,
      allowed_origins: input.allowed_origins ?? null,
      end_user_requests_per_minute: input.end_user_requests_per_minute,
      allowed_models: input.allowed_models ?? null,
      expires_at: input.expires_at ? new Date(input.expires_at).toISOString() : null,
    });
    await putKey(c.env.TENANTS, key, await sha256Hex(plaintext));
    auditAs(c, { action: "key.create", target: `key:${tenant.id}/${key.id}`, before: null, after: keyJson(key) });
    return c.json({ ...keyJson(key), key: plaintext }, 201);
  })
  .get("/tenants/:id/keys", async (c) => {
    const tenant = await mustGetTenant(c.env, c.req.param("id"));
    return c.json({ keys: (await listKeys(c.env.TENANTS, tenant.id)).map(keyJson) });
  })
  .delete("/tenants/:id/keys/:keyId", async (c) => {
    const { id, keyId } = c.req.param();
    const found = await mustGetKey(c.env, id, keyId);
    const now = Date.now();
    // The ledger refuses billable use at once; KV reads follow within its propagation delay.
    await ledgerStub(c.env, id).revokeKey(keyId, now);
    const key: KeyRecord = { ...found.key, revoked_at: found.key.revoked_at ?? new Date(now).toISOString() };
    await updateKey(c.env.TENANTS, key, found.hash);
    auditAs(c, { action: "key.revoke", target: `key:${id}/${keyId}`, before: keyJson(found.key), after: keyJson(key) });
    return c.json(keyJson(key));
  })
  .post("/tenants/:id/keys/:keyId/rotate", async (c) => {
    const { id, keyId } = c.req.param();
    const old = await mustGetKey(c.env, id, keyId);
    // The body is optional: no body rotates with the default overlap.
    const { overlap_seconds } = c.req.raw.body || c.req.header("content-type") ? await parseBody(c, KeyRotate) : KeyRotate.parse({});
    const now = Date.now();
    if (old.key.revoked_at) throw new AppError("conflict", `Key ${keyId} is revoked; issue a new key instead`);
    if (old.key.expires_at && Date.parse(old.key.expires_at) <= now) throw new AppError("conflict", `Key ${keyId} has expired; issue a new key instead`);
    // The new key has the old one's settings and shares its key budget (a rotation never resets what was spent).
    const { key, plaintext } = issue({
      tenant_id: id,
      kind: old.key.kind,
      name: old.key.name,
      budget: old.key.budget,
      allowed_origins: old.key.allowed_origins,
      end_user_requests_per_minute: old.key.end_user_requests_per_minute ?? null,
      allowed_models: old.key.allowed_models ?? null,
      expires_at: old.key.expires_at,
      budget_key_id: old.key.budget_key_id ?? old.key.id,
    });
    const endsAt = Math.min(now + overlap_seconds * 1000, old.key.expires_at ? Date.parse(old.key.expires_at) : Number.POSITIVE_INFINITY);
    // The ledger refuses the old key's billable use from the overlap's end, whatever KV still says; KV follows.
    await ledgerStub(c.env, id).revokeKey(keyId, endsAt);
    await putKey(c.env.TENANTS, key, await sha256Hex(plaintext));
    const retired: KeyRecord = { ...old.key, expires_at: new Date(endsAt).toISOString(), replaced_by: key.id };
    await updateKey(c.env.TENANTS, retired, old.hash);
    auditAs(c, {
      action: "key.rotate",
      target: `key:${id}/${keyId}`,
      before: keyJson(old.key),
      after: { old_key: keyJson(retired), new_key: keyJson(key), overlap_seconds },
    });
    return c.json({ ...keyJson(key), key: plaintext, rotated_from: { id: keyId, expires_at: retired.expires_at } }, 201);
  });
