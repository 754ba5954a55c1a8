import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ADMIN_TOKEN,
  admin,
  advanceUpstream,
  api,
  deliverCallbacks,
  eventually,
  expectError,
  json,
  proxy,
  t2v,
  tenantWithKey,
  webhookReceiver,
} from "./helpers";

afterEach(() => vi.restoreAllMocks());

/** Calls the operator API with a given bearer token. */
function as(token: string, path: string, init: { method?: string; body?: unknown } = {}) {
  return proxy(path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { Authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

async function operatorToken(role: "viewer" | "billing" | "admin", by = ADMIN_TOKEN) {
  const res = await as(by, "/admin/v1/operators", { body: { name: `${role} ${crypto.randomUUID().slice(0, 6)}`, role } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string; role: string; prefix: string };
}

type Entry = { actor: string; actor_name: string; role: string; action: string; target: string; before: any; after: any; request_id: string; at: string };
async function auditFor(target: string): Promise<Entry[]> {
  const { entries } = await json(await admin("/admin/v1/audit?limit=1000"));
  return (entries as Entry[]).filter((e) => e.target === target);
}

describe("operator tokens", () => {
  it("are shown once, stored hashed, listed without secrets, and work at once with their role", async () => {
    const created = await operatorToken("viewer");
    expect(created.token).toMatch(/^opt_[A-Za-z0-9_-]{32}$/); // 24 random bytes
    expect(created.token.startsWith(created.prefix)).toBe(true);
    const list = await (await admin("/admin/v1/operators")).text();
    expect(list).toContain(created.id);
    expect(list).not.toContain(created.token);
    expect(await json(await as(created.token, "/admin/v1/me"))).toEqual({ actor: created.id, name: expect.stringMatching(/^viewer/), role: "viewer" });
    expect(await json(await admin("/admin/v1/me"))).toEqual({ actor: "bootstrap", name: "ADMIN_TOKEN", role: "admin" });
  });

  it("a revoked token is refused at once; unknown, malformed and missing tokens are 401", async () => {
    const t = await operatorToken("admin");
    expect((await as(t.token, "/admin/v1/tenants")).status).toBe(200);
    const revoked = await json(await admin(`/admin/v1/operators/${t.id}`, { method: "DELETE" }));
    expect(revoked.revoked_at).toEqual(expect.any(String));
    await expectError(await as(t.token, "/admin/v1/tenants"), 401, "unauthorized");
    await expectError(await as(`opt_${"A".repeat(32)}`, "/admin/v1/tenants"), 401, "unauthorized");
    await expectError(await proxy("/admin/v1/tenants"), 401, "unauthorized");
    await expectError(await admin("/admin/v1/operators/op_nope", { method: "DELETE" }), 404, "not_found");
  });

  it("only an admin makes or revokes tokens; a bad role is a 400", async () => {
    const billing = await operatorToken("billing");
    await expectError(await as(billing.token, "/admin/v1/operators", { body: { name: "x", role: "admin" } }), 403, "forbidden");
    const error = await expectError(await admin("/admin/v1/operators", { body: { name: "x", role: "owner" } }), 400, "invalid_request");
    expect(error.details.issues[0].field).toBe("role");
    // An admin operator token may make another.
    const adminOp = await operatorToken("admin");
    expect((await operatorToken("viewer", adminOp.token)).role).toBe("viewer");
  });
});

describe("roles", () => {
  it("a viewer reads everything and every write in the operator API is 403, changing nothing", async () => {
    const viewer = await operatorToken("viewer");
    const { tenantId, keyId } = await tenantWithKey();
    for (const path of [
      "/admin/v1/tenants",
      `/admin/v1/tenants/${tenantId}`,
      `/admin/v1/tenants/${tenantId}/keys`,
      `/admin/v1/tenants/${tenantId}/usage`,
      `/admin/v1/tenants/${tenantId}/spend`,
      `/admin/v1/tenants/${tenantId}/breakdown?by=end_user`,
      `/admin/v1/tenants/${tenantId}/failures`,
      "/admin/v1/prices",
      "/admin/v1/audit",
      "/admin/v1/operators",
      "/admin/v1/metrics",
    ]) {
      expect((await as(viewer.token, path)).status, path).toBe(200);
    }
    // Every write the document lists, with a valid-looking body: each is refused before it is read.
    const doc = await json(await proxy("/openapi.json"));
    const writes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => m !== "get" && path.startsWith("/admin/v1/"))
        .map((m) => ({ method: m.toUpperCase(), path: path.replace("{id}", tenantId).replace("{keyId}", keyId).replace("{tokenId}", viewer.id) })),
    );
    expect(writes.length).toBeGreaterThanOrEqual(10);
    const before = (await auditFor(`tenant:${tenantId}`)).length;
    for (const w of writes) {
      const error = await expectError(await as(viewer.token, w.path, { method: w.method, body: {} }), 403, "forbidden");
      expect(error.details).toMatchObject({ role: "viewer" });
    }
    expect((await json(await admin(`/admin/v1/tenants/${tenantId}/keys`))).keys[0].revoked_at).toBeNull();
    expect((await json(await admin(`/admin/v1/tenants/${tenantId}`))).tenant.status).toBe("active");
    expect((await auditFor(`tenant:${tenantId}`)).length).toBe(before);
    expect((await as(viewer.token, "/admin/v1/me")).status).toBe(200); // still valid: it revoked nothing, not even itself
  });

  it("billing credits, debits and exports ledgers, but cannot manage tenants or keys", async () => {
    const billing = await operatorToken("billing");
    const viewer = await operatorToken("viewer");
    const { tenantId } = await tenantWithKey();
    expect((await as(billing.token, `/admin/v1/tenants/${tenantId}/adjustments`, { body: { amount_usd: 2, reason: "goodwill" } })).status).toBe(201);
    expect((await as(billing.token, `/admin/v1/tenants/${tenantId}/ledger?format=csv`)).status).toBe(200);
    await expectError(await as(viewer.token, `/admin/v1/tenants/${tenantId}/ledger?format=csv`), 403, "forbidden");
    await expectError(await as(billing.token, `/admin/v1/tenants/${tenantId}/keys`, { body: { kind: "secret" } }), 403, "forbidden");
    await expectError(await as(billing.token, "/admin/v1/tenants", { body: { name: "x", budget: { limit_usd: 1, period: "day" } } }), 403, "forbidden");
    const [credit] = await auditFor(`tenant:${tenantId}`);
    expect(credit).toMatchObject({ actor: billing.id, role: "billing", action: "tenant.credit", after: { amount_usd: 2, reason: "goodwill" } });
  });
});

describe("the audit log", () => {
  it("records each write with actor, role, action, target, before → after, time and request id, newest first", async () => {
    const started = Date.now();
    const { tenantId, keyId, key } = await tenantWithKey({ webhook_url: "https://acme.test/hooks" });
    const patch = await admin(`/admin/v1/tenants/${tenantId}`, { method: "PATCH", body: { name: "Renamed", rotate_webhook_secret: true } });
    const { tenant } = await json(patch);
    await admin(`/admin/v1/tenants/${tenantId}/keys/${keyId}`, { method: "DELETE" });
    const entries = await auditFor(`tenant:${tenantId}`);
    expect(entries.map((e) => e.action)).toEqual(["tenant.update", "tenant.create"]);
    const [update, create] = entries as [Entry, Entry];
    expect(create).toMatchObject({ actor: "bootstrap", role: "admin", before: null, after: { id: tenantId, name: "Test tenant" } });
    expect(update.before).toMatchObject({ name: "Test tenant" });
    expect(update.after).toMatchObject({ name: "Renamed", webhook_secret_rotated: true });
    expect(update.request_id).toBe(patch.headers.get("X-Request-Id"));
    expect(Date.parse(update.at)).toBeGreaterThanOrEqual(started - 1000);
    const keyEntries = await auditFor(`key:${tenantId}/${keyId}`);
    expect(keyEntries.map((e) => e.action)).toEqual(["key.revoke", "key.create"]);
    expect(keyEntries[0]!.after.revoked_at).toEqual(expect.any(String));

    // Never a secret: not the key, not the webhook signing secrets (the first, or the rotated one).
    const all = await (await admin("/admin/v1/audit?limit=1000")).text();
    expect(all).not.toContain(key);
    expect(all).not.toContain(tenant.webhook_secret);
    expect(all).not.toMatch(/whsec_|"sk_[A-Za-z0-9_-]{20}|opt_[A-Za-z0-9_-]{20}/);
  });

  it("reads nothing into the log: reads and refused writes leave no entry", async () => {
    const { tenantId } = await tenantWithKey();
    await admin(`/admin/v1/tenants/${tenantId}`);
    await expectError(
      await admin(`/admin/v1/tenants/${tenantId}`, { method: "PATCH", body: { budget: { limit_usd: -1, period: "day" } } }),
      400,
      "invalid_request",
    );
    expect((await auditFor(`tenant:${tenantId}`)).map((e) => e.action)).toEqual(["tenant.create"]);
  });

  it("pages with a cursor and filters by time; bad queries are 400", async () => {
    for (let i = 0; i < 3; i++) await tenantWithKey();
    const first = await json(await admin("/admin/v1/audit?limit=2"));
    expect(first.entries).toHaveLength(2);
    const second = await json(await admin(`/admin/v1/audit?limit=2&cursor=${first.next_cursor}`));
    expect(second.entries[0].id).toBeLessThan(first.entries[1].id);
    const future = await json(await admin(`/admin/v1/audit?from=${new Date(Date.now() + 3_600_000).toISOString()}`));
    expect(future.entries).toEqual([]);
    await expectError(await admin("/admin/v1/audit?limit=0"), 400, "invalid_request");
    await expectError(await admin("/admin/v1/audit?from=yesterday"), 400, "invalid_request");
  });
});

describe("usage per key and end user, and failures", () => {
  it("sums each key's and end user's requests and money; lists failing webhooks", async () => {
    const { tenantId, key, keyId } = await tenantWithKey({ webhook_url: "https://hooks.invalid/x" });
    await api(key, "/api/v1/hailuo/text_to_video", { body: t2v("for alice"), headers: { "X-End-User-Id": "alice" } });
    await api(key, "/api/v1/hailuo/text_to_video", { body: t2v("for alice again"), headers: { "X-End-User-Id": "alice" } });
    await api(key, "/api/v1/hailuo/text_to_video", { body: t2v("for bob"), headers: { "X-End-User-Id": "bob" } });
    const byUser = await json(await admin(`/admin/v1/tenants/${tenantId}/breakdown?by=end_user`));
    expect(byUser.rows).toEqual([
      { subject: "alice", requests: 2, tasks: 2, charged_usd: 0, reserved_usd: 0.6, last_at: expect.any(String) },
      { subject: "bob", requests: 1, tasks: 1, charged_usd: 0, reserved_usd: 0.3, last_at: expect.any(String) },
    ]);
    const byKey = await json(await admin(`/admin/v1/tenants/${tenantId}/breakdown`));
    expect(byKey.rows).toEqual([expect.objectContaining({ subject: keyId, requests: 3, reserved_usd: 0.9 })]);
    await expectError(await admin(`/admin/v1/tenants/${tenantId}/breakdown?by=model`), 400, "invalid_request");
    expect(await json(await admin(`/admin/v1/tenants/${tenantId}/failures`))).toEqual({ tenant_id: tenantId, tasks: [], alerts: [] });
  });

  it("lists a task whose webhook answers 500 (host only, never the URL's path), with its attempts", async () => {
    webhookReceiver("https://hooks.failing.test/", [500]);
    const { tenantId, key } = await tenantWithKey({ webhook_url: "https://hooks.failing.test/secret-path?token=abc" });
    const { id } = await json(await api(key, "/api/v1/hailuo/text_to_video", { body: t2v("a webhook that fails") }));
    await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
    const failures = await eventually(async () => {
      const body = await json(await admin(`/admin/v1/tenants/${tenantId}/failures`));
      expect(body.tasks).toHaveLength(1);
      return body;
    });
    expect(failures.tasks[0]).toMatchObject({
      task_id: id,
      status: "completed",
      webhook: { state: "pending", attempts: 1, last_status: 500, host: "hooks.failing.test" },
      archive: null,
    });
    expect(JSON.stringify(failures)).not.toContain("secret-path");
  });
});
