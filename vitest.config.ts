import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { buildSync } from "esbuild";
import { defineConfig } from "vitest/config";
// @ts-expect-error: plain ESM helper, no types
import { dropStructuredLogs, quietRuntimeNoise } from "./scripts/quiet-test-output.mjs";

quietRuntimeNoise();

// The RunAPI simulator runs beside the proxy as an auxiliary worker; auxiliary
// workers take a built script, so bundle it once per run.
buildSync({
  entryPoints: ["sim/index.ts"],
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  outfile: ".sim/index.js",
  external: ["cloudflare:*"],
  logLevel: "warning",
});

export const TEST_UPSTREAM_KEY = "sk-runapi-UPSTREAM-test-9f2c41d7e0";
export const TEST_ADMIN_TOKEN = "admin-test-token-3b8e1f";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          RUNAPI_API_KEY: TEST_UPSTREAM_KEY,
          ADMIN_TOKEN: TEST_ADMIN_TOKEN,
          SIGNING_SECRET: "signing-secret-for-tests-7c1d",
          RUNAPI_BASE_URL: "https://runapi.test",
          PUBLIC_BASE_URL: "https://proxy.test",
          UPSTREAM_TIMEOUT_MS: "1500",
          UPSTREAM_RETRY_BASE_MS: "10",
          VIDEO_COPY_RETRY_BASE_MS: "1",
        },
        // Outbound RunAPI calls reach the simulator through this binding.
        // Turnstile's siteverify too (tests turn Turnstile on per request; see test/turnstile.test.ts).
        serviceBindings: { RUNAPI: "runapi-sim", TURNSTILE: "runapi-sim" },
        workers: [
          {
            name: "runapi-sim",
            modules: true,
            scriptPath: ".sim/index.js",
            compatibilityDate: "2026-04-20",
            durableObjects: { SIM: { className: "SimState", useSQLite: true } },
            bindings: {
              SIM_API_KEY: TEST_UPSTREAM_KEY,
              // Tests move tasks forward and deliver callbacks themselves.
              SIM_CALLBACK_MODE: "outbox",
              SIM_PROCESSING_AFTER_MS: "3600000",
              SIM_COMPLETE_AFTER_MS: "7200000",
              SIM_SLOW_MS: "4000",
              SIM_TURNSTILE_SECRET: "turnstile-secret-for-tests",
            },
          },
        ],
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    onConsoleLog: dropStructuredLogs,
  },
});
