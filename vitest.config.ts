import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { buildSync } from "esbuild";
import { defineConfig } from "vitest/config";
// @ts-expect-error: plain ESM helper, no types
import { dropStructuredLogs, quietRuntimeNoise } from "./scripts/quiet-test-output.mjs";

quietRuntimeNoise();

// The RunAPI simulator (and its misbehaving twin) run beside the proxy as auxiliary
// workers; auxiliary workers take a built script, so bundle them once per run.
buildSync({
  entryPoints: { index: "sim/index.ts", hostile: "sim/hostile/index.ts" },
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  outdir: ".sim",
  external: ["cloudflare:*"],
  logLevel: "warning",
});

export const TEST_UPSTREAM_KEY = "sk-runapi-UPSTREAM-test-9f2c41d7e0";
export const TEST_ADMIN_TOKEN = "admin-test-token-3b8e1f";

const PROXY_BINDINGS = {
  RUNAPI_API_KEY: TEST_UPSTREAM_KEY,
  ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  SIGNING_SECRET: "signing-secret-for-tests-7c1d",
  RUNAPI_BASE_URL: "https://runapi.test",
  PUBLIC_BASE_URL: "https://proxy.test",
  UPSTREAM_TIMEOUT_MS: "1500",
  UPSTREAM_RETRY_BASE_MS: "10",
  VIDEO_COPY_RETRY_BASE_MS: "1",
  // Capacity control on (every create goes through a lease), with room for every test's tasks; test/capacity/ has its own limits.
  UPSTREAM_MAX_CONCURRENT_TASKS: "100000",
  UPSTREAM_REQUESTS_PER_MINUTE: "10000000",
};

const SIM_WORKER = {
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
};

export default defineConfig({
  test: {
    onConsoleLog: dropStructuredLogs,
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: PROXY_BINDINGS,
              // Outbound RunAPI calls reach the simulator through this binding.
              // Turnstile's siteverify too (tests turn Turnstile on per request; see test/turnstile.test.ts).
              serviceBindings: { RUNAPI: "runapi-sim", TURNSTILE: "runapi-sim" },
              workers: [SIM_WORKER],
            },
          }),
        ],
        test: { name: "workers", include: ["test/**/*.test.ts"], exclude: ["test/hostile/**", "test/capacity/**"], testTimeout: 20_000 },
      },
      {
        // SPEC §14: RunAPI's account allows 12 tasks in flight (the simulator answers 429 beyond), and so does the proxy.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: { ...PROXY_BINDINGS, UPSTREAM_MAX_CONCURRENT_TASKS: "12", UPSTREAM_REQUESTS_PER_MINUTE: "0" },
              serviceBindings: { RUNAPI: "runapi-sim", TURNSTILE: "runapi-sim" },
              workers: [{ ...SIM_WORKER, bindings: { ...SIM_WORKER.bindings, SIM_MAX_CONCURRENT: "12" } }],
            },
          }),
        ],
        test: { name: "capacity", include: ["test/capacity/**/*.test.ts"], testTimeout: 60_000 },
      },
      {
        // SPEC §13: the same proxy in front of a RunAPI that misbehaves when a request asks it to
        // (sim/hostile), which passes everything else on to the simulator.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: { ...PROXY_BINDINGS, CHAT_TIMEOUT_MS: "1000", ARCHIVE_MAX_BYTES: String(1024 * 1024) },
              serviceBindings: { RUNAPI: "runapi-hostile", TURNSTILE: "runapi-sim" },
              workers: [
                SIM_WORKER,
                {
                  name: "runapi-hostile",
                  modules: true,
                  scriptPath: ".sim/hostile.js",
                  compatibilityDate: "2026-04-20",
                  serviceBindings: { UPSTREAM: "runapi-sim" },
                },
              ],
            },
          }),
        ],
        test: { name: "hostile", include: ["test/hostile/**/*.test.ts"], testTimeout: 20_000 },
      },
    ],
  },
});
