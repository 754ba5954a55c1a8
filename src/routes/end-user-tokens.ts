import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { signEndUserToken } from "../domain/end-user-token";
import { AppError } from "../lib/errors";
import { parseBody } from "../lib/validate";
import { tenantAuth } from "../middleware/auth";

export const TokenRequest = z
  .object({
    sub: z.string().trim().min(1).max(128),
    ttl_seconds: z.number().int().min(60).max(86_400).default(3_600),
  })
  .strict();

/**
 * `POST /api/v1/end_user_tokens`: a tenant's backend (secret key) mints a short-lived token for one
 * of its users. Requests made with it are budgeted per end user (`sub`) and per the minting key.
 */
export const endUserTokens = new Hono<AppEnv>().use(tenantAuth).post("/", async (c) => {
  const { tenant, key, via } = c.var.auth;
  if (key.kind !== "secret" || via !== "key") throw new AppError("forbidden", "Only a secret key can mint end-user tokens");
  const input = await parseBody(c, TokenRequest);
  const exp = Math.floor(Date.now() / 1000) + input.ttl_seconds;
  const token = await signEndUserToken(c.var.config.signingSecret, { tenant_id: tenant.id, key_id: key.id, sub: input.sub, exp });
  return c.json({ token, sub: input.sub, expires_at: new Date(exp * 1000).toISOString() }, 201);
});
