import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import type { Bindings } from "../src/env";
import { admin, api, expectError, json, newKey, nonce, sim, simRequests, t2v, tenantWithKey } from "./helpers";

const ORIGIN = "https://demo.example";
const CREATE = "/api/v1/hailuo/text_to_video";
/** The simulator stands in for Cloudflare's siteverify (through the TURNSTILE service binding) and accepts only this secret. */
const SECRET = "turnstile-secret-for-tests";
const VERIFY_URL = "https://challenges.test/turnstile/v0/siteverify";

/** The proxy with Turnstile on (the suite's configuration has it off). */
const turnstileOn = (vars: Record<string, string> = {}) =>
  ({ ...env, TURNSTILE_SECRET_KEY: SECRET, TURNSTILE_SITE_KEY: "sim-site-key", TURNSTILE_VERIFY_URL: VERIFY_URL, ...vars }) as Bindings;

async function call(bindings: Bindings, credential: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`https://proxy.test${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${credential}`, "Content-Type": "application/json", ...headers },
      body: JSON.stringify(body),
    }),
    bindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

/** A browser at ORIGIN, client IP `ip`, with an optional Turnstile token. */
const browser = (ip: string, token?: string) => ({ Origin: ORIGIN, "CF-Connecting-IP": ip, ...(token === undefined ? {} : { "X-Turnstile-Token": token }) });

async function ledgerEntries(tenantId: string): Promise<unknown[]> {
  return (await json(await admin(`/admin/v1/tenants/${tenantId}/ledger`))).entries;
}

async function setup() {
  const { tenantId, key } = await tenantWithKey();
  const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: [ORIGIN], end_user_requests_per_minute: 100 });
  return { tenantId, secret: key, pk: pk.key };
}

describe("Turnstile on", () => {
  it.each([
    ["no token", undefined, /human check first/],
    ["an empty token", "  ", /human check first/],
    ["an invalid token", "forged-token", /human check failed/],
    ["an oversized token", `sim-pass${"x".repeat(3000)}`, /human check failed/],
  ])("refuses a publishable-key create with %s: 403, nothing reserved, nothing forwarded", async (_name, token, message) => {
    const { tenantId, pk } = await setup();
    const marker = nonce();
    const error = await expectError(await call(turnstileOn(), pk, CREATE, t2v(marker), browser("203.0.113.40", token)), 403, "forbidden");
    expect(error.message).toMatch(message);
    expect(await simRequests(marker)).toEqual([]);
    expect(await ledgerEntries(tenantId)).toEqual([]);
  });

  it("accepts a valid token: the create is reserved and forwarded", async () => {
    const { tenantId, pk } = await setup();
    const marker = nonce();
    const res = await call(turnstileOn(), pk, CREATE, t2v(marker), browser("203.0.113.41", "sim-pass-0001"));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await simRequests(marker)).toHaveLength(1);
    expect(await ledgerEntries(tenantId)).toHaveLength(1);
  });

  it("sends its secret to siteverify: a proxy holding the wrong secret gets every token refused", async () => {
    const { pk } = await setup();
    const marker = nonce();
    await expectError(
      await call(turnstileOn({ TURNSTILE_SECRET_KEY: "not-the-secret" }), pk, CREATE, t2v(marker), browser("203.0.113.42", "sim-pass-0002")),
      403,
      "forbidden",
    );
    expect(await simRequests(marker)).toEqual([]);
  });

  it("fails closed when siteverify cannot answer: 503 with Retry-After, nothing reserved or forwarded", async () => {
    const { tenantId, pk } = await setup();
    const marker = nonce();
    const res = await call(
      turnstileOn({ TURNSTILE_VERIFY_URL: "https://challenges.test/no-such-endpoint" }),
      pk,
      CREATE,
      t2v(marker),
      browser("203.0.113.43", "sim-pass-0003"),
    );
    const error = await expectError(res, 503, "service_unavailable");
    expect(error.message).toMatch(/human check/);
    expect(res.headers.get("Retry-After")).toBe("5");
    expect(await simRequests(marker)).toEqual([]);
    expect(await ledgerEntries(tenantId)).toEqual([]);
  });

  it("asks nothing of a secret key, an end-user token, or a publishable key's estimate", async () => {
    const { secret, pk } = await setup();
    expect((await call(turnstileOn(), secret, CREATE, t2v(nonce()))).status).toBe(200);
    const { token } = await json(await api(secret, "/api/v1/end_user_tokens", { body: { sub: "turnstile-user" } }));
    expect((await call(turnstileOn(), token, CREATE, t2v(nonce()))).status).toBe(200);
    expect((await call(turnstileOn(), pk, "/api/v1/estimate", t2v(nonce()), browser("203.0.113.44"))).status).toBe(200);
  });

  it("lets browsers send the token cross-origin (CORS preflight allows X-Turnstile-Token)", async () => {
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`https://proxy.test${CREATE}`, {
        method: "OPTIONS",
        headers: {
          Origin: ORIGIN,
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "authorization, content-type, x-turnstile-token",
        },
      }),
      turnstileOn(),
      ctx,
    );
    expect(res.status).toBe(204);
    expect((res.headers.get("Access-Control-Allow-Headers") ?? "").toLowerCase()).toContain("x-turnstile-token");
  });
});

describe("Turnstile off (no TURNSTILE_SECRET_KEY)", () => {
  it("a publishable-key create needs no token", async () => {
    const { pk } = await setup();
    const marker = nonce();
    expect((await call(env as Bindings, pk, CREATE, t2v(marker), browser("203.0.113.45"))).status).toBe(200);
    expect(await simRequests(marker)).toHaveLength(1);
  });
});

describe("the simulator's siteverify stand-in", () => {
  const verify = (fields: Record<string, string>, json = false) => {
    const body = json ? JSON.stringify(fields) : new URLSearchParams(fields);
    return sim("/turnstile/v0/siteverify", { method: "POST", headers: json ? { "Content-Type": "application/json" } : {}, body }).then((r) => r.json());
  };
  it("answers as Cloudflare does: success for its passing tokens and the right secret, error codes otherwise", async () => {
    expect(await verify({ secret: SECRET, response: "sim-pass-1" })).toMatchObject({ success: true, "error-codes": [] });
    expect(await verify({ secret: SECRET, response: "XXXX.DUMMY.TOKEN.XXXX" }, true)).toMatchObject({ success: true });
    expect(await verify({ secret: SECRET, response: "nope" })).toEqual({ success: false, "error-codes": ["invalid-input-response"] });
    expect(await verify({ secret: "other", response: "sim-pass-1" })).toEqual({ success: false, "error-codes": ["invalid-input-secret"] });
    expect(await verify({})).toEqual({ success: false, "error-codes": ["missing-input-secret", "missing-input-response"] });
  });
});
