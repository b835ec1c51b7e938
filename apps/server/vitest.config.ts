import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // One PostgreSQL for the run, a migrated template, and a database per test file (`createTestDatabase`).
    globalSetup: ["@switchyard/testing/globalSetup"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
