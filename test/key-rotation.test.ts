import { describe, expect, it } from "vitest";
import { admin, api, expectError, json, ledgerObject, t2v, tenantWithKey } from "./helpers";

const create = (key: string, prompt: string) => api(key, "/api/v1/hailuo/text_to_video", { body: t2v(prompt) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rotate(tenantId: string, keyId: string, body?: unknown) {
  const res = await admin(`/admin/v1/tenants/${tenantId}/keys/${keyId}/rotate`, body === undefined ? { method: "POST" } : { body });
  return { res, body: await json(res.clone()) };
}

describe("POST /admin/v1/tenants/{id}/keys/{keyId}/rotate", () => {
  it("the new key works at once, the old one until the overlap ends, then is refused (by the tenant's object too)", async () => {
    const { tenantId, key: oldKey, keyId } = await tenantWithKey({}, { name: "backend", budget: { limit_usd: 1, period: "day" } });
    expect((await create(oldKey, "before the rotation")).status).toBe(200);
    const started = Date.now();
    const { res, body: rotated } = await rotate(tenantId, keyId, { overlap_seconds: 1 });
    expect(res.status).toBe(201);
    expect(rotated.key).toMatch(/^sk_[A-Za-z0-9_-]{32}$/);
    expect(rotated).toMatchObject({ kind: "secret", name: "backend", budget: { limit_usd: 1, period: "day" }, budget_key_id: keyId });
    const endsAt = Date.parse(rotated.rotated_from.expires_at);
    expect(endsAt - started).toBeGreaterThan(500);
    expect(endsAt - started).toBeLessThanOrEqual(1_500);

    // During the overlap both keys work; the new one shares the old one's key budget ($1/day: $0.30 already spent).
    expect((await create(rotated.key, "new key")).status).toBe(200);
    expect((await create(oldKey, "old key, still in the overlap")).status).toBe(200);
    const refused = await expectError(await create(rotated.key, "a fourth $0.30 would pass $1"), 402, "budget_exceeded");
    expect(refused.details).toMatchObject({ scope: "key", spent_usd: 0, reserved_usd: 0.9 });

    const keys = (await json(await admin(`/admin/v1/tenants/${tenantId}/keys`))).keys as { id: string; expires_at: string | null; replaced_by?: string }[];
    expect(keys.find((k) => k.id === keyId)).toMatchObject({ expires_at: rotated.rotated_from.expires_at, replaced_by: rotated.id });

    // The tenant's object refuses the old key from the overlap's end, whatever KV says.
    const reserve = (keyId_: string, now: number) =>
      ledgerObject(tenantId).reserve({
        taskId: crypto.randomUUID(),
        keyId: keyId_,
        endUser: null,
        model: "gpt-4o-mini",
        amountMicros: 1,
        now,
        budgets: [],
        maxConcurrentTasks: null,
        requestsPerMinute: null,
        idempotency: null,
      });
    expect((await reserve(keyId, endsAt - 1)).ok).toBe(true);
    expect(await reserve(keyId, endsAt)).toEqual({ ok: false, code: "key_revoked" });
    expect((await reserve(rotated.id, endsAt + 86_400_000)).ok).toBe(true);

    await sleep(Math.max(0, endsAt - Date.now()) + 50);
    await expectError(await create(oldKey, "after the overlap"), 401, "unauthorized");
    await expectError(await api(oldKey, "/api/v1/me"), 401, "unauthorized");
    expect((await api(rotated.key, "/api/v1/me")).status).toBe(200);
  });

  it("defaults to a 24 h overlap with no body; a revoked key cannot be rotated; bad input is a 400", async () => {
    const { tenantId, keyId } = await tenantWithKey();
    const before = Date.now();
    const { res, body } = await rotate(tenantId, keyId);
    expect(res.status).toBe(201);
    expect(Date.parse(body.rotated_from.expires_at) - before).toBeGreaterThanOrEqual(86_400_000 - 1000);
    expect(Date.parse(body.rotated_from.expires_at) - before).toBeLessThanOrEqual(86_400_000 + 5000);

    await expectError((await rotate(tenantId, keyId, { overlap_seconds: -1 })).res, 400, "invalid_request");
    await expectError((await rotate(tenantId, keyId, { overlap_seconds: 60, colour: "red" })).res, 400, "invalid_request");
    await admin(`/admin/v1/tenants/${tenantId}/keys/${body.id}`, { method: "DELETE" });
    await expectError((await rotate(tenantId, body.id, { overlap_seconds: 60 })).res, 409, "conflict");
    await expectError((await rotate(tenantId, "key_missing", { overlap_seconds: 60 })).res, 404, "not_found");
  });

  it("an overlap of 0 stops the old key at once; the audit log records the rotation without either key", async () => {
    const { tenantId, key: oldKey, keyId } = await tenantWithKey();
    const { body } = await rotate(tenantId, keyId, { overlap_seconds: 0 });
    await expectError(await create(oldKey, "old key, no overlap"), 401, "unauthorized");
    expect((await create(body.key, "new key")).status).toBe(200);
    const audit = await (await admin("/admin/v1/audit?limit=1000")).text();
    const entry = (JSON.parse(audit).entries as { action: string; target: string; after: any }[]).find((e) => e.target === `key:${tenantId}/${keyId}`);
    expect(entry).toMatchObject({ action: "key.rotate", after: { overlap_seconds: 0, new_key: { id: body.id } } });
    expect(audit).not.toContain(body.key);
    expect(audit).not.toContain(oldKey);
  });
});
