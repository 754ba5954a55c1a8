import { describe, expect, it } from "vitest";
import { SHIELD_PERIOD_SECONDS } from "../src/middleware/browser-shield";
import { api, expectError, newKey, proxy, tenantWithKey } from "./helpers";

const ORIGIN = "https://demo.example";
/** wrangler.toml `[[ratelimits]]` BROWSER_RATE_LIMITER: simple.limit. */
const LIMIT = 40;

/** The binding counts in fixed windows: start a burst early in one. */
async function earlyInWindow(): Promise<void> {
  const period = SHIELD_PERIOD_SECONDS * 1000;
  const into = Date.now() % period;
  if (into > period * 0.3) await new Promise((r) => setTimeout(r, period - into + 50));
}

const junkPk = `pk_${"J".repeat(30)}`;
const fromIp = (ip: string, credential = junkPk) =>
  proxy("/api/v1/me", { headers: { Authorization: `Bearer ${credential}`, Origin: ORIGIN, "CF-Connecting-IP": ip } });

describe("the browser flood shield (Workers Rate Limiting binding)", () => {
  it(`lets ${LIMIT} browser-credential requests per ${SHIELD_PERIOD_SECONDS} s through from one client, then answers 429 before any key lookup`, async () => {
    await earlyInWindow();
    const ip = "198.18.0.1";
    const first = await Promise.all(Array.from({ length: LIMIT }, () => fromIp(ip)));
    // Unknown keys: each one reached the key lookup (401) while under the limit.
    expect(first.map((r) => r.status)).toEqual(Array(LIMIT).fill(401));
    const refused = await fromIp(ip);
    const error = await expectError(refused, 429, "rate_limited");
    expect(error.details).toMatchObject({ limit: "browser_flood_shield", retry_after_seconds: SHIELD_PERIOD_SECONDS });
    expect(refused.headers.get("Retry-After")).toBe(String(SHIELD_PERIOD_SECONDS));
    // A page on another origin can read it (CORS), Retry-After included.
    expect(refused.headers.get("Access-Control-Allow-Origin")).toBe(ORIGIN);
    expect(refused.headers.get("Access-Control-Expose-Headers") ?? "").toContain("Retry-After");

    // Another client is not affected; neither is the tenant's own server (a secret key) on the same IP.
    expect((await fromIp("198.18.0.2")).status).toBe(401);
    const { key } = await tenantWithKey();
    expect((await api(key, "/api/v1/me", { headers: { "CF-Connecting-IP": ip } })).status).toBe(200);
    // A real publishable key from the shielded client is refused too, without reaching KV or the ledger.
    const { tenantId } = await tenantWithKey();
    const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: [ORIGIN] });
    expect((await fromIp(ip, pk.key)).status).toBe(429);
    expect((await fromIp("198.18.0.3", pk.key)).status).toBe(200);
  });

  it("counts IPv6 clients per /64", async () => {
    await earlyInWindow();
    const burst = await Promise.all(Array.from({ length: LIMIT }, (_, i) => fromIp(`2001:db8:aaaa:1::${(i + 1).toString(16)}`)));
    expect(burst.every((r) => r.status === 401)).toBe(true);
    expect((await fromIp("2001:db8:aaaa:1:ffff::1")).status).toBe(429);
    expect((await fromIp("2001:db8:aaaa:2::1")).status).toBe(401);
  });

  it("covers the event stream's ?access_token= too", async () => {
    await earlyInWindow();
    const ip = "198.18.0.9";
    const stream = () => proxy(`/api/v1/tasks/00000000-0000-4000-8000-000000000000/events?access_token=${junkPk}`, { headers: { "CF-Connecting-IP": ip } });
    for (let i = 0; i < LIMIT; i++) expect((await stream()).status).toBe(401);
    expect((await stream()).status).toBe(429);
  });
});
