import { defineConfig } from "vitest/config";

// Tests that drive the proxy from outside, as a user does: real HTTP against local workerd
// (Miniflare) with the simulator behind it, real client libraries, and Chromium for pages.
export default defineConfig({
  test: {
    include: ["test-node/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own workerd; two cores run them best one after another.
    fileParallelism: false,
  },
});
