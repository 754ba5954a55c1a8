import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { loadConfig, type Bindings } from "../src/env";
import { AppError } from "../src/lib/errors";
import { ADMIN_TOKEN, UPSTREAM_KEY } from "./helpers";

const SECRETS = [UPSTREAM_KEY, ADMIN_TOKEN, "signing-secret-for-tests-7c1d"];

/** The test env with some variables replaced (a fresh object, so loadConfig's cache does not answer). */
const withVars = (vars: Record<string, string | undefined>) => ({ ...env, ...vars }) as Bindings;

function configError(vars: Record<string, string | undefined>): AppError {
  try {
    loadConfig(withVars(vars));
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error("loadConfig accepted the configuration");
}

describe("loadConfig", () => {
  it("reads the test configuration", () => {
    const config = loadConfig(withVars({}));
    expect(config).toMatchObject({
      runapiBaseUrl: "https://runapi.test",
      upstreamTimeoutMs: 1500,
      maxBodyBytes: 65_536,
      allowHttpUrls: false,
      pricingMode: "table",
    });
  });

  it.each([
    ["RUNAPI_API_KEY missing", { RUNAPI_API_KEY: undefined }, "RUNAPI_API_KEY"],
    ["RUNAPI_API_KEY empty", { RUNAPI_API_KEY: "" }, "RUNAPI_API_KEY"],
    ["ADMIN_TOKEN missing", { ADMIN_TOKEN: undefined }, "ADMIN_TOKEN"],
    ["ADMIN_TOKEN too short", { ADMIN_TOKEN: "short-tok" }, "ADMIN_TOKEN"],
    ["SIGNING_SECRET missing", { SIGNING_SECRET: undefined }, "SIGNING_SECRET"],
    ["RUNAPI_BASE_URL not a URL", { RUNAPI_BASE_URL: "runapi dot ai" }, "RUNAPI_BASE_URL"],
    ["UPSTREAM_TIMEOUT_MS not a number", { UPSTREAM_TIMEOUT_MS: "soon" }, "UPSTREAM_TIMEOUT_MS"],
    ["ALLOW_HTTP_URLS not a flag", { ALLOW_HTTP_URLS: "yes please" }, "ALLOW_HTTP_URLS"],
    ["PRICING_MODE unknown", { PRICING_MODE: "guess" }, "PRICING_MODE"],
  ])("%s → misconfigured, naming the variable", (_name, vars, variable) => {
    const err = configError(vars);
    expect(err).toMatchObject({ code: "misconfigured", status: 500 });
    expect(err.message).toContain(variable);
  });

  it.each([
    ["missing", undefined],
    ['set to ""', ""],
  ])('says RUNAPI_API_KEY %s is "not set", not "invalid"', (_name, value) => {
    expect(configError({ RUNAPI_API_KEY: value }).message).toContain("RUNAPI_API_KEY is not set");
  });

  it("never puts a secret or a bad value in the message", () => {
    const err = configError({ RUNAPI_API_KEY: undefined, ADMIN_TOKEN: "short-tok", RUNAPI_BASE_URL: "ftp//user:hunter2@runapi" });
    expect(err.message).toMatch(/RUNAPI_API_KEY.*ADMIN_TOKEN|ADMIN_TOKEN.*RUNAPI_API_KEY/);
    for (const secret of [...SECRETS, "short-tok", "hunter2"]) expect(err.message).not.toContain(secret);
    expect(JSON.stringify(err.details ?? {})).not.toContain("hunter2");
  });
});

describe("a misconfigured deployment over HTTP", () => {
  async function call(path: string, vars: Record<string, string | undefined>) {
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`https://proxy.test${path}`), withVars(vars), ctx);
    await waitOnExecutionContext(ctx);
    return res;
  }

  it("answers 500 misconfigured in the SPEC format, naming the variable only", async () => {
    const res = await call("/api/v1/me", { RUNAPI_API_KEY: undefined });
    expect(res.status).toBe(500);
    const text = await res.text();
    const { error } = JSON.parse(text);
    expect(error).toMatchObject({ code: "misconfigured", request_id: res.headers.get("X-Request-Id") });
    expect(error.message).toContain("RUNAPI_API_KEY");
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  it("still answers /health", async () => {
    const res = await call("/health", { RUNAPI_API_KEY: undefined });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});
