import { defineConfig } from "vitest/config";

// Each scenario starts its own PostgreSQL, server and worker processes and measures the machine while it
// breaks them: files run one at a time, and every test and hook gets minutes, not seconds.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
});
