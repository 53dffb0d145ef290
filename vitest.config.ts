import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // End-to-end tests spawn the built bin several times; on a loaded 2-core machine one spawn can take
    // seconds. The bound is there to catch hangs, not to time anything.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
