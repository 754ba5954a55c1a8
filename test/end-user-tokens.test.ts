import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signEndUserToken } from "../src/domain/end-user-token";
import { admin, api, json, me, newKey, nonce, proxy, simRequests, t2v, tenantWithKey } from "./helpers";

const SIGNING_SECRET = "signing-secret-for-tests-7c1d"; // vitest.config.ts

async function mint(key: string, sub: string, ttl_seconds?: number) {
  const res = await api(key, "/api/v1/end_user_tokens", { body: { sub, ...(ttl_seconds ? { ttl_seconds } : {}) } });
  expect(res.status).toBe(201);
  return (await json(res)) as { token: string; sub: string; expires_at: string };
}

const create = (credential: string, prompt = nonce()) => api(credential, "/api/v1/hailuo/text_to_video", { body: t2v(prompt) });

describe("end-user tokens", () => {
  it("a secret key mints a short-lived token that creates tasks as that end user", async () => {
    const { key } = await tenantWithKey({ end_user_budget: { limit_usd: 0.3, period: "day" } });
    const minted = await mint(key, "alice", 600);
    expect(minted.token).toMatch(/^eut_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(minted.expires_at) - Date.now()).toBeGreaterThan(590_000);
    const marker = nonce();
    expect((await create(minted.token, marker)).status).toBe(200);
    expect((await simRequests(marker))[0]!.headers.authorization).not.toContain("eut_");
    const whoami = await me(minted.token);
    expect(whoami.end_user).toBe("alice");
    expect(whoami.budgets.end_user).toMatchObject({ subject: "alice", limit_usd: 0.3, reserved_usd: 0.3, remaining_usd: 0 });
    const second = await create(minted.token);
    expect(second.status).toBe(402);
    expect((await json(second)).error.details.scope).toBe("end_user");
    expect((await create((await mint(key, "bob")).token)).status).toBe(200);
  });

  it("only a secret key can mint", async () => {
    const { key, tenantId } = await tenantWithKey();
    const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://app.example"] });
    expect((await api(pk.key, "/api/v1/end_user_tokens", { body: { sub: "x" }, headers: { Origin: "https://app.example" } })).status).toBe(403);
    const { token } = await mint(key, "x");
    expect((await api(token, "/api/v1/end_user_tokens", { body: { sub: "y" } })).status).toBe(403);
    const bad = await api(key, "/api/v1/end_user_tokens", { body: { sub: "", ttl_seconds: 10 } });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.details.issues.map((i: { field: string }) => i.field).sort()).toEqual(["sub", "ttl_seconds"]);
  });

  it("refuses a tampered, forged, expired or revoked-key token", async () => {
    const { key, tenantId, keyId } = await tenantWithKey();
    const { token } = await mint(key, "carol");
    const [payload, signature] = token.slice(4).split(".");
    const tampered = `eut_${payload}.${signature!.slice(0, -2)}${signature!.endsWith("AA") ? "BB" : "AA"}`;
    const forged = await signEndUserToken("some-other-secret-0123456789", { tenant_id: tenantId, key_id: keyId, sub: "carol", exp: 9_999_999_999 });
    const expired = await signEndUserToken(SIGNING_SECRET, { tenant_id: tenantId, key_id: keyId, sub: "carol", exp: Math.floor(Date.now() / 1000) - 1 });
    for (const credential of [tampered, forged, expired, "eut_garbage"]) {
      const res = await create(credential);
      expect(res.status).toBe(401);
      expect((await json(res)).error.code).toBe("unauthorized");
    }
    await admin(`/admin/v1/tenants/${tenantId}/keys/${keyId}`, { method: "DELETE" });
    expect((await create(token)).status).toBe(401);
  });
});

describe("who sees which tasks", () => {
  it("a token sees its own end user's tasks; the secret key sees them all", async () => {
    const { key } = await tenantWithKey();
    const alice = (await mint(key, "alice")).token;
    const bob = (await mint(key, "bob")).token;
    const aliceTask = (await json(await create(alice))).id;
    const bobTask = (await json(await create(bob))).id;
    const backendTask = (await json(await create(key))).id;

    expect((await api(alice, `/api/v1/tasks/${aliceTask}`)).status).toBe(200);
    for (const id of [bobTask, backendTask]) {
      expect((await api(alice, `/api/v1/tasks/${id}`)).status).toBe(404);
      expect((await api(alice, `/api/v1/hailuo/text_to_video/${id}`)).status).toBe(404);
      expect((await api(alice, `/api/v1/tasks/${id}/events`)).status).toBe(404);
    }
    const listed = async (credential: string) => (await json(await api(credential, "/api/v1/tasks"))).tasks.map((t: { id: string }) => t.id);
    expect(await listed(alice)).toEqual([aliceTask]);
    expect(await listed(bob)).toEqual([bobTask]);
    expect(new Set(await listed(key))).toEqual(new Set([aliceTask, bobTask, backendTask]));
  });

  it("a publishable key sees only tasks it made for the same client", async () => {
    const { key, tenantId } = await tenantWithKey();
    const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://app.example"] });
    const asClient = (ip: string) => ({ "CF-Connecting-IP": ip, Origin: "https://app.example" });
    const mine = (await json(await api(pk.key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()), headers: asClient("203.0.113.9") }))).id;
    const backend = (await json(await create(key))).id;
    expect((await api(pk.key, `/api/v1/tasks/${mine}`, { headers: asClient("203.0.113.9") })).status).toBe(200);
    expect((await api(pk.key, `/api/v1/tasks/${mine}`, { headers: asClient("198.51.100.1") })).status).toBe(404);
    expect((await api(pk.key, `/api/v1/tasks/${backend}`, { headers: asClient("203.0.113.9") })).status).toBe(404);
  });
});

describe("disabling a tenant", () => {
  it("the ledger refuses billable requests at once, even while KV still shows the tenant active", async () => {
    const { key, tenantId } = await tenantWithKey();
    const stale = await env.TENANTS.get(`tenant:${tenantId}`);
    expect((await admin(`/admin/v1/tenants/${tenantId}`, { method: "DELETE" })).status).toBe(200);
    await env.TENANTS.put(`tenant:${tenantId}`, stale!); // as another location's KV might still see it
    const marker = nonce();
    const res = await create(key, marker);
    expect(res.status).toBe(403);
    expect((await json(res)).error.code).toBe("forbidden");
    expect(await simRequests(marker)).toHaveLength(0);
    await admin(`/admin/v1/tenants/${tenantId}`, { method: "PATCH", body: { status: "active" } });
    expect((await create(key)).status).toBe(200);
  });
});

describe("what browser-side callers may do", () => {
  it("only a secret key may set callback_url", async () => {
    const { key, tenantId } = await tenantWithKey({ webhook_url: "https://tenant.test/hook" });
    const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://app.example"] });
    const { token } = await mint(key, "dave");
    const body = t2v(nonce(), { callback_url: "https://attacker.test/collect" });
    for (const credential of [pk.key, token]) {
      const res = await api(credential, "/api/v1/hailuo/text_to_video", { body, headers: { Origin: "https://app.example" } });
      expect(res.status).toBe(403);
      expect((await json(res)).error.message).toContain("callback_url");
    }
    expect(await simRequests(body.prompt)).toHaveLength(0);
    expect((await api(key, "/api/v1/hailuo/text_to_video", { body })).status).toBe(200);
  });

  it("/me shows a browser-side caller its own scopes, not the tenant's budget or limits", async () => {
    const { key } = await tenantWithKey({ end_user_budget: { limit_usd: 1, period: "day" }, limits: { max_concurrent_tasks: 3 } });
    const { token } = await mint(key, "erin");
    const mine = await me(token);
    expect(Object.keys(mine.budgets)).toEqual(["end_user"]);
    expect(mine).not.toHaveProperty("limits");
    expect(mine.via).toBe("end_user_token");
    const backend = await me(key);
    expect(Object.keys(backend.budgets)).toEqual(["tenant"]);
    expect(backend.limits).toMatchObject({ max_concurrent_tasks: 3 });
  });

  it("a publishable key never learns the tenant's budget figures: not from a create, a refusal or an estimate", async () => {
    const { key, tenantId } = await tenantWithKey({ budget: { limit_usd: 0.5, period: "month" } });
    const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://app.example"] });
    const ok = await api(pk.key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()), headers: { Origin: "https://app.example" } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("X-Budget-Remaining-Usd")).toBeNull();
    const refused = await api(pk.key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()), headers: { Origin: "https://app.example" } });
    expect(refused.status).toBe(402);
    const error = (await json(refused)).error;
    expect(error.details).toEqual({ scope: "tenant", required_usd: 0.3 });
    expect(error.message).not.toMatch(/\$0\.2/);
    const estimate = await json(await api(pk.key, "/api/v1/estimate", { body: t2v(nonce()), headers: { Origin: "https://app.example" } }));
    expect(estimate.budget).toEqual({ remaining_usd: null, would_exceed: false }); // only from scopes it may see: it has none
    // The tenant's own server still sees everything.
    const backend = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) });
    expect((await json(backend)).error.details).toMatchObject({ scope: "tenant", limit_usd: 0.5, remaining_usd: 0.2 });
  });

  it("a tenant webhook_url must be https unless the deployment allows http", async () => {
    const res = await admin("/admin/v1/tenants", { body: { name: "x", budget: { limit_usd: 1, period: "day" }, webhook_url: "http://tenant.test/hook" } });
    expect(res.status).toBe(400);
    expect((await json(res)).error.details.issues[0]).toMatchObject({ field: "webhook_url" });
  });
});

describe("event streams from a browser", () => {
  it("take an end-user token in ?access_token= (EventSource cannot send headers), but never a secret key", async () => {
    const { key } = await tenantWithKey();
    const { token } = await mint(key, "frank");
    const id = (await json(await create(token))).id;
    const ok = await proxy(`/api/v1/tasks/${id}/events?access_token=${encodeURIComponent(token)}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toContain("text/event-stream");
    await ok.body?.cancel();
    expect((await proxy(`/api/v1/tasks/${id}/events?access_token=${key}`)).status).toBe(401);
    expect((await proxy(`/api/v1/tasks/${id}?access_token=${encodeURIComponent(token)}`)).status).toBe(401);
  });
});

describe("Idempotency-Keys of end users cannot collide", () => {
  it("end user `u` sending key `x|k1` does not replay end user `u|x`'s task made with key `k1`", async () => {
    const { key } = await tenantWithKey();
    const body = t2v(nonce());
    const send = (token: string, idem: string) => api(token, "/api/v1/hailuo/text_to_video", { body, headers: { "Idempotency-Key": idem } });
    const first = await send((await mint(key, "u|x")).token, "k1");
    expect(first.status).toBe(200);
    const theirs = (await json(first)).id;
    const mine = await send((await mint(key, "u")).token, "x|k1");
    expect(mine.status).toBe(200);
    expect((await json(mine)).id).not.toBe(theirs);
    // The same for `:`, and an end user named like a separator.
    const colon = await send((await mint(key, "v:x")).token, "k2");
    const other = await send((await mint(key, "v")).token, "x:k2");
    expect((await json(other)).id).not.toBe((await json(colon)).id);
  });
});
