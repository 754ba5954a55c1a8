import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { admin, api, expectError, issueFields, json, newKey, nonce, t2v, tenantBudget, tenantWithKey } from "./helpers";

const freshId = () => `t-${crypto.randomUUID()}`;
const tenantBody = (extra: Record<string, unknown> = {}) => ({ id: freshId(), name: "Acme", budget: { limit_usd: 25, period: "week" }, ...extra });

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("tenants", () => {
  it("creates a tenant: 201, its settings, and the webhook secret on create only", async () => {
    const body = tenantBody({
      webhook_url: "https://acme.test/hooks",
      limits: { max_concurrent_tasks: 3 },
      allowed_models: ["hailuo-02-text-to-video-standard"],
    });
    const res = await admin("/admin/v1/tenants", { body });
    expect(res.status).toBe(201);
    const { tenant } = await json(res);
    expect(tenant).toMatchObject({
      id: body.id,
      name: "Acme",
      status: "active",
      budget: { limit_usd: 25, period: "week" },
      // The limit left out is the deployment's default (DEFAULT_TENANT_REQUESTS_PER_MINUTE in wrangler.toml: 120).
      limits: { max_concurrent_tasks: 3, requests_per_minute: 120 },
      allowed_models: ["hailuo-02-text-to-video-standard"],
      webhook_url: "https://acme.test/hooks",
      capacity_weight: 1,
      capacity_floor: 0,
      queue: false,
    });
    expect(tenant.webhook_secret).toMatch(/^whsec_[A-Za-z0-9+/=]{24,}$/);

    const text = await (await admin(`/admin/v1/tenants/${body.id}`)).text();
    expect(JSON.parse(text).tenant).toMatchObject({ id: body.id, budget: { limit_usd: 25, period: "week" } });
    expect(text).not.toContain("webhook_secret");
    expect(text).not.toContain(tenant.webhook_secret);
  });

  it("gives a new tenant the deployment's default limits unless the operator sets them (null: none)", async () => {
    const defaults = await json(await admin("/admin/v1/tenants", { body: tenantBody() }));
    expect(defaults.tenant.limits).toEqual({ max_concurrent_tasks: 20, requests_per_minute: 120 });
    const none = await json(await admin("/admin/v1/tenants", { body: tenantBody({ limits: { max_concurrent_tasks: null, requests_per_minute: null } }) }));
    expect(none.tenant.limits).toEqual({ max_concurrent_tasks: null, requests_per_minute: null });
  });

  it("sets a tenant's share of RunAPI's capacity: weight, floor, queue; refuses a weight of 0", async () => {
    const created = await json(await admin("/admin/v1/tenants", { body: tenantBody({ capacity_weight: 2.5, capacity_floor: 3, queue: true }) }));
    expect(created.tenant).toMatchObject({ capacity_weight: 2.5, capacity_floor: 3, queue: true });
    const patched = await json(await admin(`/admin/v1/tenants/${created.tenant.id}`, { method: "PATCH", body: { capacity_weight: 1, queue: false } }));
    expect(patched.tenant).toMatchObject({ capacity_weight: 1, capacity_floor: 3, queue: false });
    const zero = await admin("/admin/v1/tenants", { body: tenantBody({ capacity_weight: 0 }) });
    expect(issueFields(await expectError(zero, 400, "invalid_request"))).toContain("capacity_weight");
  });

  it("generates an id when none is given", async () => {
    const { id, ...body } = tenantBody();
    const res = await admin("/admin/v1/tenants", { body });
    expect(res.status).toBe(201);
    const { tenant } = await json(res);
    expect(tenant.id).toMatch(/^tn_[a-z0-9]+$/);
    expect((await admin(`/admin/v1/tenants/${tenant.id}`)).status).toBe(200);
  });

  it.each([
    ["an unknown field", { colour: "red" }, ["colour"]],
    ["an unknown budget field", { budget: { limit_usd: 1, period: "day", currency: "EUR" } }, ["budget.currency"]],
    ["an unknown period", { budget: { limit_usd: 1, period: "year" } }, ["budget.period"]],
    ["a negative limit", { budget: { limit_usd: -1, period: "day" } }, ["budget.limit_usd"]],
    ["more than 6 decimals", { budget: { limit_usd: 0.0000001, period: "day" } }, ["budget.limit_usd"]],
    ["a limit given as a string", { budget: { limit_usd: "10", period: "day" } }, ["budget.limit_usd"]],
    ["a negative rate limit", { limits: { requests_per_minute: -5 } }, ["limits.requests_per_minute"]],
    ["an unknown model", { allowed_models: ["gpt-4"] }, ["allowed_models.0"]],
    ["a webhook_url that is not http(s)", { webhook_url: "ftp://acme.test/x" }, ["webhook_url"]],
    ["an id with capitals", { id: "Acme Corp" }, ["id"]],
    ["no name", { name: undefined }, ["name"]],
  ])("rejects %s with 400 naming the field", async (_name, extra, fields) => {
    const body = tenantBody(extra);
    const error = await expectError(await admin("/admin/v1/tenants", { body }), 400, "invalid_request");
    expect(issueFields(error)).toEqual(fields);
    expect(await env.TENANTS.get(`tenant:${body.id}`)).toBeNull();
  });

  it.each([[0], [0.000001], [68029.283026], [999_999_999.999999]])("accepts a budget of $%s to the micro-dollar", async (limit) => {
    const body = tenantBody({ budget: { limit_usd: limit, period: "total" } });
    const res = await admin("/admin/v1/tenants", { body });
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await json(res)).tenant.budget.limit_usd).toBe(limit);
  });

  it("refuses a duplicate id with 409 and keeps the first tenant", async () => {
    const body = tenantBody();
    expect((await admin("/admin/v1/tenants", { body })).status).toBe(201);
    const error = await expectError(await admin("/admin/v1/tenants", { body: { ...body, name: "Impostor" } }), 409, "conflict");
    expect(error.message).toContain(body.id);
    expect((await json(await admin(`/admin/v1/tenants/${body.id}`))).tenant.name).toBe("Acme");
  });

  it("lists tenants page by page", async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await tenantWithKey()).tenantId);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await json(await admin(`/admin/v1/tenants?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`));
      expect(page.tenants.length).toBeLessThanOrEqual(2);
      for (const t of page.tenants) expect(t).not.toHaveProperty("webhook_secret");
      seen.push(...page.tenants.map((t: { id: string }) => t.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(expect.arrayContaining(ids));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("rejects a bad list limit with 400", async () => {
    expect(issueFields(await expectError(await admin("/admin/v1/tenants?limit=0"), 400, "invalid_request"))).toEqual(["limit"]);
  });

  it.each([["GET"], ["PATCH"], ["DELETE"]])("answers %s of an unknown tenant with 404", async (method) => {
    const res = await admin(`/admin/v1/tenants/${freshId()}`, { method, ...(method === "PATCH" ? { body: { name: "x" } } : {}) });
    await expectError(res, 404, "not_found");
  });

  it("patches the budget, and the tenant's /me follows", async () => {
    const { tenantId, key } = await tenantWithKey();
    const res = await admin(`/admin/v1/tenants/${tenantId}`, { method: "PATCH", body: { budget: { limit_usd: 7.5, period: "day" } } });
    expect((await json(res)).tenant.budget).toEqual({ limit_usd: 7.5, period: "day" });
    expect(await tenantBudget(key)).toMatchObject({ limit_usd: 7.5, remaining_usd: 7.5 });
  });

  it("patches one limit and keeps the other", async () => {
    const { tenantId } = await tenantWithKey({ limits: { max_concurrent_tasks: 5, requests_per_minute: 60 } });
    await admin(`/admin/v1/tenants/${tenantId}`, { method: "PATCH", body: { limits: { max_concurrent_tasks: 2 } } });
    expect((await json(await admin(`/admin/v1/tenants/${tenantId}`))).tenant.limits).toEqual({ max_concurrent_tasks: 2, requests_per_minute: 60 });
  });

  it("patches webhook_url and status, and clears webhook_url with null", async () => {
    const { tenantId } = await tenantWithKey();
    await admin(`/admin/v1/tenants/${tenantId}`, { method: "PATCH", body: { webhook_url: "https://new.test/hook", status: "disabled" } });
    expect((await json(await admin(`/admin/v1/tenants/${tenantId}`))).tenant).toMatchObject({ webhook_url: "https://new.test/hook", status: "disabled" });
    await admin(`/admin/v1/tenants/${tenantId}`, { method: "PATCH", body: { webhook_url: null } });
    expect((await json(await admin(`/admin/v1/tenants/${tenantId}`))).tenant.webhook_url).toBeNull();
  });

  it.each([
    ["an unknown field", { plan: "gold" }, ["plan"]],
    ["an unknown status", { status: "deleted" }, ["status"]],
    ["a budget with 7 decimals", { budget: { limit_usd: 1.0000001, period: "day" } }, ["budget.limit_usd"]],
    ["a zero concurrency limit", { limits: { max_concurrent_tasks: 0 } }, ["limits.max_concurrent_tasks"]],
  ])("rejects a patch with %s and changes nothing", async (_name, body, fields) => {
    const { tenantId } = await tenantWithKey();
    const error = await expectError(await admin(`/admin/v1/tenants/${tenantId}`, { method: "PATCH", body }), 400, "invalid_request");
    expect(issueFields(error)).toEqual(fields);
    expect((await json(await admin(`/admin/v1/tenants/${tenantId}`))).tenant).toMatchObject({ status: "active", budget: { limit_usd: 100, period: "month" } });
  });

  it("rotates the webhook secret on request, showing the new one once", async () => {
    const { tenantId, webhookSecret } = await tenantWithKey();
    const { tenant } = await json(await admin(`/admin/v1/tenants/${tenantId}`, { method: "PATCH", body: { rotate_webhook_secret: true } }));
    expect(tenant.webhook_secret).toMatch(/^whsec_/);
    expect(tenant.webhook_secret).not.toBe(webhookSecret);
  });

  it("DELETE disables the tenant but keeps it readable", async () => {
    const { tenantId } = await tenantWithKey();
    const res = await admin(`/admin/v1/tenants/${tenantId}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect((await json(res)).tenant.status).toBe("disabled");
    expect((await json(await admin(`/admin/v1/tenants/${tenantId}`))).tenant.status).toBe("disabled");
  });
});

describe("keys", () => {
  it.each([
    ["secret", "sk_"],
    ["publishable", "pk_"],
  ])("issues a %s key once, with ≥ 128 bits of randomness", async (kind, prefix) => {
    const { tenantId } = await tenantWithKey();
    const origins = kind === "publishable" ? { allowed_origins: ["https://app.example"] } : {};
    const res = await admin(`/admin/v1/tenants/${tenantId}/keys`, { body: { kind, name: "ci", ...origins } });
    expect(res.status).toBe(201);
    const created = await json(res);
    expect(created).toMatchObject({ kind, name: "ci", tenant_id: tenantId, revoked_at: null });
    expect(created.key.startsWith(prefix)).toBe(true);
    const random = created.key.slice(prefix.length);
    expect(random).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(random.length * 6).toBeGreaterThanOrEqual(128); // base64url: 6 bits a character
    const again = await newKey(tenantId, { kind, ...origins });
    expect(again.key).not.toBe(created.key);
    expect(again.id).not.toBe(created.id);
  });

  it("never shows the plaintext or its hash again", async () => {
    const { tenantId, key, keyId } = await tenantWithKey();
    const hash = await sha256Hex(key);
    const text = await (await admin(`/admin/v1/tenants/${tenantId}/keys`)).text();
    const { keys } = JSON.parse(text);
    expect(keys.map((k: { id: string }) => k.id)).toEqual([keyId]);
    expect(keys[0]).not.toHaveProperty("key");
    expect(text).not.toContain(key);
    expect(text).not.toContain(hash);
    const revoked = await (await admin(`/admin/v1/tenants/${tenantId}/keys/${keyId}`, { method: "DELETE" })).text();
    expect(revoked).not.toContain(key);
    expect(revoked).not.toContain(hash);
  });

  it("stores only the SHA-256 hash in KV", async () => {
    const { tenantId, key } = await tenantWithKey();
    const other = await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://app.example"] });
    expect(await env.TENANTS.get(`key:${await sha256Hex(key)}`)).not.toBeNull();
    let cursor: string | undefined;
    do {
      const page = await env.TENANTS.list({ cursor });
      for (const { name } of page.keys) {
        const value = (await env.TENANTS.get(name)) ?? "";
        for (const plaintext of [key, other.key]) {
          expect(name).not.toContain(plaintext);
          expect(value).not.toContain(plaintext);
        }
      }
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
  });

  it.each([
    ["an unknown kind", { kind: "root" }, ["kind"]],
    ["an expiry in the past", { kind: "secret", expires_at: "2020-01-01T00:00:00Z" }, ["expires_at"]],
    ["an origin that is not a URL", { kind: "publishable", allowed_origins: ["app.example"] }, ["allowed_origins.0"]],
    ["an unknown field", { kind: "secret", scopes: ["all"] }, ["scopes"]],
  ])("rejects a key with %s", async (_name, body, fields) => {
    const { tenantId } = await tenantWithKey();
    const error = await expectError(await admin(`/admin/v1/tenants/${tenantId}/keys`, { body }), 400, "invalid_request");
    expect(issueFields(error)).toEqual(fields);
  });

  it("answers a key for an unknown tenant, or revoking an unknown key, with 404", async () => {
    await expectError(await admin(`/admin/v1/tenants/${freshId()}/keys`, { body: { kind: "secret" } }), 404, "not_found");
    const { tenantId } = await tenantWithKey();
    await expectError(await admin(`/admin/v1/tenants/${tenantId}/keys/key_nope`, { method: "DELETE" }), 404, "not_found");
  });

  it("cannot revoke one tenant's key through another tenant", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    await expectError(await admin(`/admin/v1/tenants/${b.tenantId}/keys/${a.keyId}`, { method: "DELETE" }), 404, "not_found");
    expect((await api(a.key, "/api/v1/me")).status).toBe(200);
  });
});

describe("operator pricing: RunAPI's schedule with a markup", () => {
  afterAll(async () => {
    expect((await admin("/admin/v1/prices", { method: "PUT", body: { markup_percent: 0 } })).status).toBe(200);
  });

  it("shows RunAPI's prices as held and the markup on them (0 until set)", async () => {
    const body = await json(await admin("/admin/v1/prices"));
    expect(body.markup).toEqual({ markup_percent: 0, overrides: [] });
    expect(body.schedule).toMatchObject({ origin: "bundled", as_of: expect.stringMatching(/^\d{4}-/) });
    expect(body.price_schedules).toContainEqual(expect.objectContaining({ service: "hailuo", model: "hailuo-02-text-to-video-pro", unit_price_cents: 57 }));
  });

  it("a global markup and a more specific override reach estimates, creates and the tenant's price list", async () => {
    const set = await admin("/admin/v1/prices", {
      method: "PUT",
      body: { markup_percent: 20, overrides: [{ service: "hailuo", model: "hailuo-02-text-to-video-pro", markup_percent: 50 }] },
    });
    expect(set.status).toBe(200);
    expect((await json(set)).markup.markup_percent).toBe(20);
    const { key, tenantId } = await tenantWithKey();
    expect(await json(await api(key, "/api/v1/estimate", { body: t2v(nonce()) }))).toMatchObject({ estimated_cost_usd: 0.36 });
    const created = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) });
    expect(await json(created)).toMatchObject({ estimated_cost_usd: 0.36 });
    expect(created.headers.get("X-Estimated-Cost-Usd")).toBe("0.360000");
    expect(await tenantBudget(key)).toMatchObject({ reserved_usd: 0.36 });
    const pro = await json(await api(key, "/api/v1/estimate", { body: { model: "hailuo-02-text-to-video-pro", prompt: nonce() } }));
    expect(pro.estimated_cost_usd).toBe(0.855);
    // The ledger holds the tenant's price and RunAPI's cost side by side.
    const entries = (await json(await admin(`/admin/v1/tenants/${tenantId}/ledger`))).entries;
    expect(entries[0]).toMatchObject({ type: "reserve", amount_micros: 360_000, cost_micros: 300_000 });
    // A tenant's own markup replaces the global one.
    const own = await tenantWithKey({ markup_percent: 0 });
    expect(await json(await api(own.key, "/api/v1/estimate", { body: t2v(nonce()) }))).toMatchObject({ estimated_cost_usd: 0.3 });
  });

  it.each([
    ["a markup below −100 %", { markup_percent: -101 }, "markup_percent"],
    ["3 decimals", { markup_percent: 1.005 }, "markup_percent"],
    ["an override without a service", { overrides: [{ markup_percent: 5 }] }, "overrides[0].service"],
    ["an unknown field", { prices: [] }, "prices"],
    // Chat prices come from RunAPI's schedule now: a body that once replaced them (and dropped the models it did not name) is refused.
    ["the old chat_prices", { chat_prices: [{ model: "gpt-4o", input_usd_per_1m_tokens: 1, output_usd_per_1m_tokens: 2 }] }, "chat_prices"],
  ])("rejects %s, naming the field", async (_name, body, field) => {
    expect(issueFields(await expectError(await admin("/admin/v1/prices", { method: "PUT", body }), 400, "invalid_request"))).toEqual([field]);
  });
});

describe("operator input never answers 500", () => {
  it("an over-long or malformed tenant or key id in the path is a 404", async () => {
    const { tenantId } = await tenantWithKey();
    const long = "a".repeat(600);
    for (const [path, init] of [
      [`/admin/v1/tenants/${long}`, {}],
      [`/admin/v1/tenants/${long}/keys`, { body: { kind: "secret" } }],
      [`/admin/v1/tenants/${long}/usage`, {}],
      [`/admin/v1/tenants/${tenantId}/keys/${long}`, { method: "DELETE" }],
      [`/admin/v1/tenants/${tenantId}/keys/not%20a%20key`, { method: "DELETE" }],
    ] as const) {
      const res = await admin(path, init);
      expect(res.status, path.slice(0, 60)).toBe(404);
    }
  });

  it("bounds each adjustment so budget reads can never overflow", async () => {
    const { key, tenantId } = await tenantWithKey();
    const big = await admin(`/admin/v1/tenants/${tenantId}/adjustments`, { body: { amount_usd: 1e9, reason: "credit" } });
    expect(big.status).toBe(400);
    for (let i = 0; i < 10; i++)
      expect((await admin(`/admin/v1/tenants/${tenantId}/adjustments`, { body: { amount_usd: 1e6, reason: "credit" } })).status).toBe(201);
    expect((await api(key, "/api/v1/me")).status).toBe(200);
    expect((await admin(`/admin/v1/tenants/${tenantId}/usage`)).status).toBe(200);
  });
});
