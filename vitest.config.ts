import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // End-to-end tests spawn the built bin several times; on a loaded 2-core machine one spawn can take
    // seconds. The bound is there to catch hangs, not to time anything.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Vitest's default (one fewer than the cores) runs the files one at a time on the 2-core CI machines,
    // while most of their time is spent waiting on child processes, Redis and sockets: two at a time took the
    // suite from 455 s to about 290 s there, with the same results.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
