import { describe, expect, it } from "vitest";
import { advanceUpstream, api, deliverCallbacks, eventually, getTask, json, me, newKey, nonce, simRequests, t2v, tenantWithKey } from "./helpers";

const CREATE = "/api/v1/hailuo/text_to_video";

async function mint(key: string, sub: string): Promise<string> {
  return (await json(await api(key, "/api/v1/end_user_tokens", { body: { sub } }))).token;
}

describe("an Idempotency-Key belongs to one credential", () => {
  it("two end users of one tenant never replay, block or probe each other's requests", async () => {
    const { key } = await tenantWithKey();
    const [alice, bob] = [await mint(key, "alice"), await mint(key, "bob")];
    const headers = { "Idempotency-Key": "order-1" };
    const aliceBody = t2v(`${nonce()} alice's secret prompt`);
    const first = await json(await api(alice, CREATE, { body: aliceBody, headers }));
    // Bob guesses Alice's key and prompt: he gets a task of his own, not a replay of hers, and no 409 that would confirm the guess.
    const guess = await api(bob, CREATE, { body: aliceBody, headers });
    expect(guess.status).toBe(200);
    expect(guess.headers.get("Idempotent-Replayed")).toBeNull();
    expect((await json(guess)).id).not.toBe(first.id);
    const other = await api(bob, CREATE, { body: t2v(nonce()), headers });
    expect(other.status).toBe(409); // Bob's own "order-1" now names his guess: another body conflicts with his request, never with Alice's
    // Alice's replay still finds her own task.
    const replay = await api(alice, CREATE, { body: aliceBody, headers });
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect((await json(replay)).id).toBe(first.id);
  });

  it("a publishable-key visitor cannot squat a key another visitor or the tenant's server will use", async () => {
    const { key, tenantId } = await tenantWithKey();
    const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://app.example"] });
    const asVisitor = (ip: string) => ({ "Idempotency-Key": "checkout", Origin: "https://app.example", "CF-Connecting-IP": ip });
    expect((await api(pk.key, CREATE, { body: t2v(nonce()), headers: asVisitor("203.0.113.7") })).status).toBe(200);
    expect((await api(pk.key, CREATE, { body: t2v(nonce()), headers: asVisitor("198.51.100.4") })).status).toBe(200);
    expect((await api(key, CREATE, { body: t2v(nonce()), headers: { "Idempotency-Key": "checkout" } })).status).toBe(200);
  });
});

describe("browser-side callers never learn the tenant's figures", () => {
  it("/estimate's would_exceed comes only from scopes the caller may see", async () => {
    const { key } = await tenantWithKey({ budget: { limit_usd: 0.1, period: "day" }, end_user_budget: { limit_usd: 5, period: "day" } });
    const token = await mint(key, "carol");
    const body = t2v("estimate me");
    const asServer = await json(await api(key, "/api/v1/estimate", { body }));
    expect(asServer.budget).toMatchObject({ would_exceed: true, remaining_usd: 0.1 });
    const asBrowser = await json(await api(token, "/api/v1/estimate", { body }));
    expect(asBrowser.budget).toEqual({ would_exceed: false, remaining_usd: 5 });
  });

  it("a task read by a browser-side caller has no webhook_deliveries; /me has no key name", async () => {
    const { key, tenantId } = await tenantWithKey({ webhook_url: "https://hooks.tenant.example/runapi" }, { name: "acme-prod-backend" });
    const token = await mint(key, "dan");
    const { id } = await json(await api(token, CREATE, { body: t2v(nonce()) }));
    await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
    await eventually(async () => expect((await getTask(key, id)).webhook_deliveries).toHaveLength(1));
    const seen = await getTask(token, id);
    expect(seen.status).toBe("completed");
    expect(seen).not.toHaveProperty("webhook_deliveries");
    const view = await me(token);
    expect(JSON.stringify(view)).not.toContain("acme-prod-backend");
    expect((await me(key)).key.name).toBe("acme-prod-backend");
    const pk = await newKey(tenantId, { kind: "publishable", name: "marketing-site", allowed_origins: ["https://app.example"] });
    const pkView = await json(await api(pk.key, "/api/v1/me", { headers: { Origin: "https://app.example", "CF-Connecting-IP": "203.0.113.1" } }));
    expect(JSON.stringify(pkView)).not.toContain("marketing-site");
    expect(await simRequests("never")).toEqual([]);
  });
});
