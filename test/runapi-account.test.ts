import { describe, expect, it } from "vitest";
import { admin, api, proxy, expectError, json, newKey, nonce, simRequests, t2v, tenantWithKey } from "./helpers";

// RunAPI's account and pricing endpoints as its SDKs call them (runapi-ai/core-sdk account.ts, pricing.ts).

/** The response shapes RunAPI's JS SDK declares. */
interface AccountBalanceResponse {
  balance_cents: number;
  paid_balance_cents: number;
  bonus_balance_cents: number;
  spent_cents_today: number;
  spent_cents_total: number;
}
interface AccountInfoResponse {
  id: unknown;
  name: string;
  account: { id: unknown; name: string };
}
interface PriceSchedule {
  service: string;
  action: string;
  model: string | null;
  pricing_status: string;
  catalog_status: string;
  currency: string;
  billing_unit: string;
  billing_strategy: string;
  unit_price_cents?: number | null;
  input_price_per_1m_cents: number | null;
  output_price_per_1m_cents: number | null;
  billing_config: Record<string, unknown>;
}
interface PriceQuoteResponse {
  service: string;
  action: string;
  model: string | null;
  pricing_status: string;
  currency: string;
  reservation_amount_cents: number;
  estimate_basis: string;
  as_of: string;
}

/** What the SDK's `account` and `pricing` namespaces do: bearer key, JSON in and out. */
function runapiSdk(key: string) {
  const get = async <T>(path: string) => {
    const res = await api(key, path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    account: {
      info: () => get<AccountInfoResponse>("/api/v1/me"),
      balance: () => get<AccountBalanceResponse>("/api/v1/me/balance"),
    },
    pricing: {
      list: (filters: Record<string, string> = {}) =>
        get<{ as_of: string; price_schedules: PriceSchedule[] }>(`/api/v1/price_schedules?${new URLSearchParams(filters)}`),
      quote: async (params: { service: string; action: string; model?: string; params?: Record<string, unknown> }) => {
        const res = await api(key, "/api/v1/price_quotes", { body: params });
        if (res.status !== 200) throw new Error(`quote: ${res.status} ${await res.text()}`);
        return ((await res.json()) as { price_quote: PriceQuoteResponse }).price_quote;
      },
    },
  };
}

describe("account", () => {
  it("info() gets RunAPI's id, name and account beside the proxy's own fields", async () => {
    const { key, keyId, tenantId } = await tenantWithKey({ name: "Acme" });
    const info = await runapiSdk(key).account.info();
    expect(info).toMatchObject({ id: keyId, name: "Acme", account: { id: tenantId, name: "Acme" } });
    expect(info).toHaveProperty("budgets.tenant");
  });

  it("balance() is the caller's budget in cents, and moves with spend", async () => {
    const { key } = await tenantWithKey({ budget: { limit_usd: 5, period: "month" } });
    const sdk = runapiSdk(key);
    expect(await sdk.account.balance()).toMatchObject({
      balance_cents: 500,
      paid_balance_cents: 500,
      bonus_balance_cents: 0,
      spent_cents_today: 0,
      spent_cents_total: 0,
    });
    const created = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(`balance ${nonce()}`) });
    expect(created.status).toBe(200);
    // $0.30 reserved: the balance already counts it; nothing is spent until the task settles.
    expect((await sdk.account.balance()).balance_cents).toBe(470);
    const chat = await api(key, "/v1/chat/completions", { body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] } });
    expect(chat.status).toBe(200);
    const after = await sdk.account.balance();
    expect(after.spent_cents_today).toBeGreaterThan(0);
    expect(after.spent_cents_total).toBe(after.spent_cents_today);
  });

  it("balance() for a browser caller shows only its own scopes, never the tenant's", async () => {
    const { tenantId } = await tenantWithKey({ budget: { limit_usd: 100, period: "month" } });
    const pk = await newKey(tenantId, {
      kind: "publishable",
      name: "marketing-site",
      allowed_origins: ["https://app.test"],
      budget: { limit_usd: 2, period: "day" },
    });
    const res = await api(pk.key, "/api/v1/me/balance", { headers: { Origin: "https://app.test" } });
    expect(await json(res)).toMatchObject({ balance_cents: 200, scope: "end_user" });
    const info = await json(await api(pk.key, "/api/v1/me", { headers: { Origin: "https://app.test" } }));
    expect(info).toMatchObject({ id: pk.id, account: { id: tenantId } });
    expect(JSON.stringify(info)).not.toContain("marketing-site");
    const bare = await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://app.test"] });
    expect(await json(await api(bare.key, "/api/v1/me/balance", { headers: { Origin: "https://app.test" } }))).toMatchObject({ balance_cents: null });
  });
});

describe("pricing", () => {
  it("list() answers RunAPI's price schedules in the caller's terms, every catalog model and chat", async () => {
    const { key } = await tenantWithKey();
    const { price_schedules, as_of } = await runapiSdk(key).pricing.list();
    expect(as_of).toMatch(/^\d{4}-\d{2}-\d{2}/);
    const t2vStd = price_schedules.find((s) => s.model === "hailuo-02-text-to-video-standard")!;
    expect(t2vStd).toMatchObject({
      service: "hailuo",
      action: "text_to_video",
      currency: "USD",
      billing_unit: "task",
      unit_price_cents: 50,
      billing_config: { key: "duration_seconds", overrides: { "6": 30, "10": 50 } },
    });
    expect(price_schedules.find((s) => s.service === "kling" && s.model === "kling-3.0" && s.action === "text_to_video")).toMatchObject({
      billing_config: { keys: ["enable_sound", "output_resolution"] },
    });
    const mini = price_schedules.find((s) => s.model === "gpt-4o-mini")!;
    expect(mini).toMatchObject({
      service: "chat",
      action: "chat_completions",
      billing_unit: "token",
      input_price_per_1m_cents: 15,
      output_price_per_1m_cents: 60,
    });
    const filtered = await runapiSdk(key).pricing.list({ service: "hailuo", action: "image_to_video" });
    expect(filtered.price_schedules.map((s) => s.action)).toEqual(Array(4).fill("image_to_video"));
  });

  it("quote() prices a Hailuo request from the table without calling RunAPI, and a chat from its token bound", async () => {
    const { key } = await tenantWithKey();
    const sdk = runapiSdk(key);
    const n = nonce();
    const q = await sdk.pricing.quote({
      service: "hailuo",
      action: "text_to_video",
      model: "hailuo-02-text-to-video-standard",
      params: { duration_seconds: 10, prompt: n },
    });
    expect(q).toMatchObject({
      service: "hailuo",
      action: "text_to_video",
      model: "hailuo-02-text-to-video-standard",
      currency: "USD",
      reservation_amount_cents: 50,
      pricing_status: "available",
    });
    expect(await simRequests(n)).toHaveLength(0);
    const i2v = await sdk.pricing.quote({
      service: "hailuo",
      action: "image_to_video",
      model: "hailuo-02-image-to-video-standard",
      params: { duration_seconds: 6, output_resolution: "512p" },
    });
    expect(i2v.reservation_amount_cents).toBe(12);
    const chat = await sdk.pricing.quote({ service: "chat", action: "chat_completions", model: "gpt-4o", params: { input_tokens: 1000, max_tokens: 1000 } });
    expect(chat.reservation_amount_cents).toBe(1.25); // 1000 × $2.50/1M + 1000 × $10/1M
  });

  it("refuses a quote for an impossible request with a 400 naming the field", async () => {
    const { key } = await tenantWithKey();
    const res = await api(key, "/api/v1/price_quotes", {
      body: { service: "hailuo", action: "text_to_video", model: "hailuo-02-text-to-video-pro", params: { duration_seconds: 10 } },
    });
    const error = await expectError(res, 400, "invalid_request");
    expect(JSON.stringify(error.details)).toContain("duration_seconds");
    await expectError(await api(key, "/api/v1/price_quotes", { body: { service: "suno", action: "x" } }), 400, "invalid_request");
  });

  it("is public and cacheable like RunAPI's: an ETag, 304 when unchanged, the default terms without a key", async () => {
    const open = await proxy("/api/v1/price_schedules?service=hailuo");
    expect(open.status).toBe(200);
    const etag = open.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect((await proxy("/api/v1/price_schedules?service=hailuo", { headers: { "If-None-Match": etag } })).status).toBe(304);
    // A tenant with a markup sees its own prices, under its own ETag.
    const { key } = await tenantWithKey({ markup_percent: 10 });
    const own = await api(key, "/api/v1/price_schedules?service=hailuo&model=hailuo-02-text-to-video-pro");
    expect(own.headers.get("etag")).not.toBe(etag);
    expect((await json(own)).price_schedules).toEqual([expect.objectContaining({ unit_price_cents: 62.7 })]);
  });

  it("needs a tenant key", async () => {
    await expectError(await api("sk_nope_nope_nope_nope_nope_nope", "/api/v1/me/balance"), 401, "unauthorized");
    expect((await admin("/admin/v1/prices")).status).toBe(200);
  });
});
