import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, api, expectError, json, newKey, nonce, proxy, simRequests, t2v, tenantWithKey } from "./helpers";

const CREATE = "/api/v1/hailuo/text_to_video";

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A create with a given set of headers (no default Authorization). */
function createWith(headers: Record<string, string>, marker: string) {
  return proxy(CREATE, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(t2v(marker)) });
}

describe("tenant keys", () => {
  it.each([
    ["no key at all", {}],
    ["an empty bearer", { Authorization: "Bearer " }],
    ["a Basic credential", { Authorization: `Basic ${btoa("user:pass")}` }],
    ["a malformed key", { Authorization: "Bearer not-a-key" }],
    ["an unknown secret key", { Authorization: `Bearer sk_${"A".repeat(32)}` }],
    ["an unknown key in x-api-key", { "x-api-key": `pk_${"b".repeat(32)}` }],
    ["the upstream RunAPI key", { Authorization: "Bearer sk-runapi-UPSTREAM-test-9f2c41d7e0" }],
    ["the admin token", { Authorization: `Bearer ${ADMIN_TOKEN}` }],
  ])("refuses %s with 401 and forwards nothing", async (_name, headers) => {
    const marker = nonce();
    await expectError(await createWith(headers, marker), 401, "unauthorized");
    expect(await simRequests(marker)).toEqual([]);
  });

  it("refuses a key one character off", async () => {
    const { key } = await tenantWithKey();
    const last = key.at(-1) === "A" ? "B" : "A";
    await expectError(await api(`${key.slice(0, -1)}${last}`, "/api/v1/me"), 401, "unauthorized");
  });

  it("accepts the key in x-api-key", async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await proxy("/api/v1/me", { headers: { "x-api-key": key } });
    expect(res.status).toBe(200);
    expect((await json(res)).tenant.id).toBe(tenantId);
  });

  it("accepts a lower-case bearer scheme", async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await proxy("/api/v1/me", { headers: { authorization: `bearer ${key}` } });
    expect(res.status).toBe(200);
    expect((await json(res)).tenant.id).toBe(tenantId);
  });

  it("refuses a revoked key at once, for reads and billable requests", async () => {
    const { key, keyId, tenantId } = await tenantWithKey();
    expect((await api(key, "/api/v1/me")).status).toBe(200);
    const revoked = await admin(`/admin/v1/tenants/${tenantId}/keys/${keyId}`, { method: "DELETE" });
    expect(revoked.status).toBe(200);
    expect((await json(revoked)).revoked_at).toEqual(expect.any(String));

    const marker = nonce();
    expect((await expectError(await api(key, CREATE, { body: t2v(marker) }), 401, "unauthorized")).message).toMatch(/revoked/);
    expect(await simRequests(marker)).toEqual([]);
    await expectError(await api(key, "/api/v1/me"), 401, "unauthorized");
  });

  it("refuses billable use of a revoked key even while KV still serves the old record", async () => {
    const { key, keyId, tenantId } = await tenantWithKey();
    const kvKey = `key:${await sha256Hex(key)}`;
    const before = await env.TENANTS.get(kvKey);
    expect(before).not.toBeNull();
    await admin(`/admin/v1/tenants/${tenantId}/keys/${keyId}`, { method: "DELETE" });
    await env.TENANTS.put(kvKey, before!); // a KV edge that has not seen the revocation yet

    const marker = nonce();
    await expectError(await api(key, CREATE, { body: t2v(marker) }), 401, "unauthorized");
    expect(await simRequests(marker)).toEqual([]);
  });

  it("keeps the tenant's other keys working after one is revoked", async () => {
    const { keyId, tenantId } = await tenantWithKey();
    const other = await newKey(tenantId);
    await admin(`/admin/v1/tenants/${tenantId}/keys/${keyId}`, { method: "DELETE" });
    expect((await api(other.key, CREATE, { body: t2v(nonce()) })).status).toBe(200);
  });

  it("refuses a key after its expires_at", async () => {
    const { tenantId } = await tenantWithKey();
    const { key } = await newKey(tenantId, { expires_at: new Date(Date.now() + 1_000).toISOString() });
    expect((await api(key, "/api/v1/me")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_100));
    const marker = nonce();
    expect((await expectError(await api(key, CREATE, { body: t2v(marker) }), 401, "unauthorized")).message).toMatch(/expired/);
    expect(await simRequests(marker)).toEqual([]);
  });

  it("refuses every key of a disabled tenant with 403, and serves it again once re-enabled", async () => {
    const { key, tenantId } = await tenantWithKey();
    expect((await admin(`/admin/v1/tenants/${tenantId}`, { method: "DELETE" })).status).toBe(200);
    const marker = nonce();
    await expectError(await api(key, CREATE, { body: t2v(marker) }), 403, "forbidden");
    await expectError(await api(key, "/api/v1/me"), 403, "forbidden");
    expect(await simRequests(marker)).toEqual([]);

    expect((await admin(`/admin/v1/tenants/${tenantId}`, { method: "PATCH", body: { status: "active" } })).status).toBe(200);
    expect((await api(key, "/api/v1/me")).status).toBe(200);
  });
});

describe("allowed_models", () => {
  it("refuses a model outside the tenant's list with 403 and forwards nothing", async () => {
    const { key } = await tenantWithKey({ allowed_models: ["hailuo-02-image-to-video-standard"] });
    const marker = nonce();
    const error = await expectError(await api(key, CREATE, { body: t2v(marker) }), 403, "forbidden");
    expect(error.message).toContain("hailuo-02-text-to-video-standard");
    expect(error.details).toEqual({ allowed_models: ["hailuo-02-image-to-video-standard"] });
    expect(await simRequests(marker)).toEqual([]);
  });

  it("refuses it on /api/v1/estimate too", async () => {
    const { key } = await tenantWithKey({ allowed_models: ["hailuo-02-image-to-video-standard"] });
    await expectError(await api(key, "/api/v1/estimate", { body: t2v(nonce()) }), 403, "forbidden");
  });

  it("matches a legacy hailuo-2-3-… id against the canonical one", async () => {
    const { key } = await tenantWithKey({ allowed_models: ["hailuo-2.3-image-to-video-standard"] });
    const body = { model: "hailuo-2-3-image-to-video-standard", prompt: nonce(), image_url: "https://img.test/a.png", duration: 6 };
    expect((await api(key, "/api/v1/hailuo/image_to_video", { body })).status).toBe(200);
  });

  it("serves a model on the list", async () => {
    const { key } = await tenantWithKey({ allowed_models: ["hailuo-02-text-to-video-standard"] });
    const marker = nonce();
    expect((await api(key, CREATE, { body: t2v(marker) })).status).toBe(200);
    expect(await simRequests(marker)).toHaveLength(1);
  });
});

describe("publishable keys and origins", () => {
  async function publishable() {
    const { tenantId } = await tenantWithKey();
    return (await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://app.example"] })).key;
  }

  it("issues a pk_ key that works from an allowed origin", async () => {
    const key = await publishable();
    expect(key).toMatch(/^pk_/);
    const marker = nonce();
    const res = await api(key, CREATE, { body: t2v(marker), headers: { Origin: "https://app.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    expect(await simRequests(marker)).toHaveLength(1);
  });

  it.each([
    ["another origin", { Origin: "https://evil.example" }],
    ["a look-alike origin", { Origin: "https://app.example.evil.test" }],
    ["the right host over http", { Origin: "http://app.example" }],
    ["no Origin header", {}],
  ])("refuses %s with 403 and forwards nothing", async (_name, headers) => {
    const key = await publishable();
    const marker = nonce();
    const error = await expectError(await api(key, CREATE, { body: t2v(marker), headers }), 403, "forbidden");
    expect(error.message).toMatch(/origin/i);
    expect(await simRequests(marker)).toEqual([]);
  });
});

describe("what a publishable key can read", () => {
  // A pk_ key is public (it ships in a web page): it should not reveal the tenant's other tasks.
  it("cannot list or read a task made with the tenant's secret key", async () => {
    const { key, tenantId } = await tenantWithKey();
    const { id } = await json(await api(key, CREATE, { body: t2v(nonce()) }));
    const pk = (await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://app.example"] })).key;
    const headers = { Origin: "https://app.example" };
    await expectError(await api(pk, `/api/v1/tasks/${id}`, { headers }), 404, "not_found");
    const { tasks } = await json(await api(pk, "/api/v1/tasks", { headers }));
    expect(tasks.map((t: { id: string }) => t.id)).not.toContain(id);
  });
});

describe("operator API", () => {
  it.each([
    ["no token", {}],
    ["a wrong token", { Authorization: "Bearer admin-test-token-WRONG00" }],
    ["the token with a suffix", { Authorization: `Bearer ${ADMIN_TOKEN}x` }],
    ["the token as x-api-key", { "x-api-key": ADMIN_TOKEN }],
    ["the upstream key", { Authorization: "Bearer sk-runapi-UPSTREAM-test-9f2c41d7e0" }],
  ])("refuses %s with 401", async (_name, headers) => {
    for (const path of ["/admin/v1/tenants", "/admin/v1/prices"]) {
      await expectError(await proxy(path, { headers }), 401, "unauthorized");
    }
  });

  it("refuses a tenant's own key with 401, and changes nothing", async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await proxy(`/admin/v1/tenants/${tenantId}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ budget: { limit_usd: 1_000_000, period: "total" } }),
    });
    await expectError(res, 401, "unauthorized");
    expect((await json(await admin(`/admin/v1/tenants/${tenantId}`))).tenant.budget).toEqual({ limit_usd: 100, period: "month" });
  });

  it("refuses an unauthenticated tenant create and stores nothing", async () => {
    const id = `t-${crypto.randomUUID()}`;
    const res = await proxy("/admin/v1/tenants", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id, name: "x", budget: { limit_usd: 1, period: "day" } }),
    });
    await expectError(res, 401, "unauthorized");
    expect(await env.TENANTS.get(`tenant:${id}`)).toBeNull();
  });
});
