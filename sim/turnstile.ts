import { Hono } from "hono";
import type { SimApp } from "./env";

/** Tokens the stand-in accepts: anything starting `sim-pass`, and Cloudflare's documented dummy token. */
const PASSING = /^(sim-pass[A-Za-z0-9._-]*|XXXX\.DUMMY\.TOKEN\.XXXX)$/;

/**
 * A stand-in for Cloudflare Turnstile's siteverify (`POST /turnstile/v0/siteverify`), so tests and
 * `npm start` can turn Turnstile on offline. Form or JSON body `{secret, response, remoteip?}`;
 * answers `{success, "error-codes"}` as Cloudflare does. With `SIM_TURNSTILE_SECRET` set, only that secret is valid.
 */
export const turnstile = new Hono<SimApp>().post("/v0/siteverify", async (c) => {
  const type = c.req.header("content-type") ?? "";
  let fields: Record<string, unknown> = {};
  try {
    fields = type.includes("application/json") ? ((await c.req.json()) as Record<string, unknown>) : Object.fromEntries(await c.req.formData());
  } catch {
    return c.json({ success: false, "error-codes": ["bad-request"] });
  }
  const secret = typeof fields.secret === "string" ? fields.secret : "";
  const response = typeof fields.response === "string" ? fields.response : "";
  const errors: string[] = [];
  if (!secret) errors.push("missing-input-secret");
  else if (c.env.SIM_TURNSTILE_SECRET && secret !== c.env.SIM_TURNSTILE_SECRET) errors.push("invalid-input-secret");
  if (!response) errors.push("missing-input-response");
  else if (!PASSING.test(response)) errors.push("invalid-input-response");
  if (errors.length) return c.json({ success: false, "error-codes": errors });
  return c.json({ success: true, "error-codes": [], challenge_ts: new Date().toISOString(), hostname: "sim.turnstile", action: "", cdata: "" });
});
