import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { endUserOfIp, UNKNOWN_CLIENT } from "../src/domain/client-ip";
import { admin, api, expectError, issueFields, json, newKey, nonce, simRequests, t2v, tenantWithKey } from "./helpers";

const ORIGIN = "https://demo.example";
const CREATE = "/api/v1/hailuo/text_to_video";

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A fresh tenant and a publishable key for ORIGIN. */
async function publishable(key: Record<string, unknown> = {}, tenant: Record<string, unknown> = {}) {
  const { tenantId } = await tenantWithKey(tenant);
  const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: [ORIGIN], ...key });
  return { tenantId, pk: pk.key, keyId: pk.id };
}

/** A create from a browser at ORIGIN whose client IP Cloudflare reports as `ip`. */
function createFrom(pk: string, ip: string, prompt = nonce(), headers: Record<string, string> = {}) {
  return api(pk, CREATE, { body: t2v(prompt), headers: { Origin: ORIGIN, "CF-Connecting-IP": ip, ...headers } });
}

/** Per-minute windows are aligned to the minute: keep a burst of requests inside one. */
async function awayFromMinuteEdge(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 55_000) await new Promise((r) => setTimeout(r, 60_500 - into));
}

describe("issuing publishable keys", () => {
  it("refuses a publishable key without allowed_origins, naming the field", async () => {
    const { tenantId } = await tenantWithKey();
    const error = await expectError(await admin(`/admin/v1/tenants/${tenantId}/keys`, { body: { kind: "publishable" } }), 400, "invalid_request");
    expect(issueFields(error)).toEqual(["allowed_origins"]);
    expect(error.message).toContain("allowed_origins");
  });

  it("gives a publishable key 5 requests a minute per visitor unless told otherwise; a secret key has none", async () => {
    const { tenantId } = await tenantWithKey();
    const byDefault = await json(await admin(`/admin/v1/tenants/${tenantId}/keys`, { body: { kind: "publishable", allowed_origins: [ORIGIN] } }));
    expect(byDefault).toMatchObject({ kind: "publishable", allowed_origins: [ORIGIN], end_user_requests_per_minute: 5 });
    const custom = await json(
      await admin(`/admin/v1/tenants/${tenantId}/keys`, { body: { kind: "publishable", allowed_origins: [ORIGIN], end_user_requests_per_minute: 2 } }),
    );
    expect(custom.end_user_requests_per_minute).toBe(2);
    const secret = await json(await admin(`/admin/v1/tenants/${tenantId}/keys`, { body: { kind: "secret" } }));
    expect(secret.end_user_requests_per_minute).toBeNull();
  });

  it.each([
    ["zero", { kind: "publishable", allowed_origins: [ORIGIN], end_user_requests_per_minute: 0 }],
    ["a fraction", { kind: "publishable", allowed_origins: [ORIGIN], end_user_requests_per_minute: 1.5 }],
    ["a secret key", { kind: "secret", end_user_requests_per_minute: 3 }],
  ])("refuses end_user_requests_per_minute on %s", async (_name, body) => {
    const { tenantId } = await tenantWithKey();
    const error = await expectError(await admin(`/admin/v1/tenants/${tenantId}/keys`, { body }), 400, "invalid_request");
    expect(issueFields(error)).toEqual(["end_user_requests_per_minute"]);
  });
});

describe("the origin check", () => {
  it("accepts the allowed Origin, or for a same-origin GET (no Origin) a Referer from it", async () => {
    const { pk } = await publishable();
    const created = await createFrom(pk, "203.0.113.20");
    expect(created.status).toBe(200);
    const { id } = await json(created);
    const read = (headers: Record<string, string>) => api(pk, `/api/v1/tasks/${id}`, { headers: { "CF-Connecting-IP": "203.0.113.20", ...headers } });
    expect((await read({ Referer: `${ORIGIN}/demo?key=${pk}` })).status).toBe(200);
    await expectError(await read({ Referer: "https://evil.example/page" }), 403, "forbidden");
    await expectError(await read({}), 403, "forbidden");
  });

  it("refuses a publishable key stored without allowed_origins (made before they were required), forwarding nothing", async () => {
    const { pk } = await publishable();
    const kvKey = `key:${await sha256Hex(pk)}`;
    const record = JSON.parse((await env.TENANTS.get(kvKey))!);
    delete record.end_user_requests_per_minute;
    await env.TENANTS.put(kvKey, JSON.stringify({ ...record, allowed_origins: null }));
    const marker = nonce();
    const error = await expectError(await createFrom(pk, "203.0.113.21", marker), 403, "forbidden");
    expect(error.message).toMatch(/origin/i);
    expect(await simRequests(marker)).toEqual([]);
  });
});

describe("per-visitor requests per minute", () => {
  it("gives each client IP its own limit, then 429 with Retry-After and a plain message; the refused request is not forwarded", async () => {
    const { pk } = await publishable({ end_user_requests_per_minute: 2 });
    await awayFromMinuteEdge();
    expect((await createFrom(pk, "198.51.100.10")).status).toBe(200);
    expect((await createFrom(pk, "198.51.100.10")).status).toBe(200);
    const marker = nonce();
    const refused = await createFrom(pk, "198.51.100.10", marker);
    const error = await expectError(refused, 429, "rate_limited");
    expect(error.details).toMatchObject({ limit: "end_user_requests_per_minute", retry_after_seconds: expect.any(Number) });
    const retryAfter = Number(refused.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get("Access-Control-Allow-Origin")).toBe(ORIGIN);
    expect(error.message).toBe(`Too many requests per minute from you; retry after ${retryAfter} s`);
    expect(await simRequests(marker)).toEqual([]);
    // Another visitor is not affected; a forwarded-for header a client sets changes nothing.
    expect((await createFrom(pk, "198.51.100.11")).status).toBe(200);
    expect((await createFrom(pk, "198.51.100.10", nonce(), { "X-Forwarded-For": "192.0.2.99", "X-Real-IP": "192.0.2.98" })).status).toBe(429);
  });

  it("defaults to 5 a minute", async () => {
    const { pk } = await publishable();
    await awayFromMinuteEdge();
    for (let i = 0; i < 5; i++) expect((await createFrom(pk, "192.0.2.50")).status).toBe(200);
    await expectError(await createFrom(pk, "192.0.2.50"), 429, "rate_limited");
  });

  it("is exact under concurrency: 12 at once from one visitor with a limit of 3 → exactly 3 reach RunAPI", async () => {
    const { pk } = await publishable({ end_user_requests_per_minute: 3 });
    await awayFromMinuteEdge();
    const marker = nonce();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => createFrom(pk, "192.0.2.60", `${marker} #${i}`)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    expect(results.filter((r) => r.status === 429)).toHaveLength(9);
    expect(await simRequests(marker)).toHaveLength(3);
  });

  it("counts IPv6 per /64: rotating addresses inside one /64 does not reset the limit", async () => {
    const { pk } = await publishable({ end_user_requests_per_minute: 1 }, { end_user_budget: { limit_usd: 5, period: "day" } });
    await awayFromMinuteEdge();
    expect((await createFrom(pk, "2001:db8:1:2::1")).status).toBe(200);
    for (const sameNet of ["2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:0DB8:0001:0002:0:0:0:abcd", "2001:db8:1:2:a:b:c:d"]) {
      await expectError(await createFrom(pk, sameNet), 429, "rate_limited");
    }
    expect((await createFrom(pk, "2001:db8:1:3::1")).status).toBe(200);
    const whoami = await json(await api(pk, "/api/v1/me", { headers: { Origin: ORIGIN, "CF-Connecting-IP": "2001:db8:1:2:dead:beef:0:1" } }));
    expect(whoami.end_user).toBe("2001:db8:1:2::/64");
    expect(whoami.budgets.end_user).toMatchObject({ subject: "2001:db8:1:2::/64", reserved_usd: 0.3 });
  });

  it("applies to a publishable key's visitors only: a secret key is held by the tenant's requests_per_minute alone", async () => {
    const { tenantId } = await publishable({ end_user_requests_per_minute: 1 });
    const secret = await newKey(tenantId);
    await awayFromMinuteEdge();
    for (let i = 0; i < 3; i++) expect((await api(secret.key, CREATE, { body: t2v(nonce()), headers: { "CF-Connecting-IP": "192.0.2.70" } })).status).toBe(200);
  });
});

describe("client IP → end user", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    [" 203.0.113.7 ", "203.0.113.7"],
    ["2001:db8:1:2::1", "2001:db8:1:2::/64"],
    ["2001:0db8:0001:0002:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"],
    ["2001:DB8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8::", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::ffff:198.51.100.4", "198.51.100.4"],
    ["2001:db8:1:2::192.0.2.1", "2001:db8:1:2::/64"],
    [undefined, UNKNOWN_CLIENT],
    ["", UNKNOWN_CLIENT],
    ["not an ip", UNKNOWN_CLIENT],
    ["256.1.1.1", UNKNOWN_CLIENT],
    ["1.2.3", UNKNOWN_CLIENT],
    ["2001:db8::1::2", UNKNOWN_CLIENT],
    ["2001:db8:1:2:3:4:5:6:7", UNKNOWN_CLIENT],
    ["12345::1", UNKNOWN_CLIENT],
  ])("%s → %s", (raw, expected) => {
    expect(endUserOfIp(raw)).toBe(expected);
  });
});
