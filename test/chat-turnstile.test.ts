import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { expect, it } from "vitest";
import { app } from "../src/app";
import type { Bindings } from "../src/env";
import { expectError, newKey, nonce, simRequests, tenantWithKey } from "./helpers";

// With Turnstile on, a publishable key's chat needs the human check like its creates; a secret key's does not.

const ORIGIN = "https://chat.example";
const turnstileOn = {
  ...env,
  TURNSTILE_SECRET_KEY: "turnstile-secret-for-tests",
  TURNSTILE_SITE_KEY: "sim-site-key",
  TURNSTILE_VERIFY_URL: "https://challenges.test/turnstile/v0/siteverify",
} as Bindings;

async function chat(credential: string, content: string, headers: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request("https://proxy.test/v1/chat/completions", {
      method: "POST",
      headers: { Authorization: `Bearer ${credential}`, "Content-Type": "application/json", ...headers },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content }] }),
    }),
    turnstileOn,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

it("refuses a publishable key's chat without a Turnstile token, before anything is reserved or forwarded", async () => {
  const { tenantId, key } = await tenantWithKey();
  const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: [ORIGIN], end_user_requests_per_minute: 100 });
  const n = nonce();
  const error = await expectError(await chat(pk.key, n, { Origin: ORIGIN, "CF-Connecting-IP": "198.51.100.7" }), 403, "forbidden");
  expect(error).toMatchObject({ type: "permission_error" });
  expect(await simRequests(n)).toHaveLength(0);
  expect((await chat(key, n)).status).toBe(200);
  expect(await simRequests(n)).toHaveLength(1);
});
