import { describe, expect, it } from "vitest";
import type { BatchJob } from "../../src/batch/job.js";
import type { BatchEvent } from "../../src/batch/runner.js";
import { createBatchProgress } from "../../src/cli/batch-progress.js";
import { Output } from "../../src/cli/output.js";
import { fakeTerminal } from "../cli/helpers.js";

const job = (id: string): BatchJob => ({
  id,
  hash: `h-${id}`,
  kind: "generate",
  prompt: `prompt ${id}`,
  source: { file: "jobs.jsonl", line: 1 },
});
const ref = (taskId: string) => ({
  provider: "visual" as const,
  taskId,
  model: "m",
  kind: "generate" as const,
  submittedAt: "2026-01-01T00:00:00.000Z",
});
const plan: BatchEvent = {
  type: "plan",
  total: 2,
  skippedLines: [],
  plan: { jobs: [], counts: { submit: 2, poll: 0, skip: 0 }, uncertain: [], uncertainAction: "submit" },
};
const run: BatchEvent[] = [
  plan,
  { type: "start", job: job("a"), action: "submit", reason: "new" },
  { type: "submitted", job: job("a"), ref: ref("111") },
  { type: "start", job: job("b"), action: "submit", reason: "new" },
  { type: "status", job: job("a"), ref: ref("111"), status: "running", elapsedMs: 1000 },
  {
    type: "end",
    job: job("a"),
    status: "succeeded",
    taskId: "111",
    files: [{ file: "a-1.png", sha256: "s", bytes: 1 }],
  },
  {
    type: "end",
    job: job("b"),
    status: "failed",
    files: [],
    error: { code: 50511, message: "blocked for sekret-session-id" },
  },
];

async function show(events: readonly BatchEvent[], options: { tty: boolean; quiet?: boolean }) {
  const terminal = fakeTerminal({ tty: options.tty });
  const output = new Output(terminal.io, { quiet: options.quiet === true });
  output.secrets.add("sekret-session-id");
  const progress = await createBatchProgress(output);
  for (const event of events) progress.onEvent(event);
  progress.render();
  progress.stop();
  // The captured streams deliver what was written on the next turn of the event loop.
  await new Promise((resolve) => setImmediate(resolve));
  return terminal;
}

describe("batch progress", () => {
  it("prints one plain line per transition without a TTY, with secrets scrubbed", async () => {
    const terminal = await show(run, { tty: false });
    const lines = terminal.err().trim().split("\n");
    expect(lines).toEqual([
      "• 2 jobs: 2 to submit",
      "• a: submitted (task 111)",
      "✔ [1/2] a: succeeded → a-1.png",
      expect.stringMatching(/^✖ \[2\/2\] b: failed: blocked for .* \[50511\]$/),
    ]);
    expect(terminal.err()).not.toContain("sekret-session-id");
    expect(terminal.out()).toBe("");
  });

  it("draws an overall bar and a line per running job on a TTY, and removes a job's line when it ends", async () => {
    const terminal = await show(run.slice(0, 5), { tty: true });
    const drawn = terminal.err();
    expect(drawn).toContain("0/2 done · 0 failed · 2 running");
    expect(drawn).toMatch(/a {2}running {2}task 111 {2}\d+s/);
    expect(drawn).toMatch(/b {2}submitting {2}\d+s/);

    const finished = await show(run, { tty: true });
    expect(finished.err()).toContain("2/2 done · 1 failed · 0 running");
    expect(finished.err()).not.toContain("sekret-session-id");
  });

  it("on a TTY, a submitted job's row says submitted, with its task id, before the first poll", async () => {
    const terminal = await show(run.slice(0, 3), { tty: true });
    expect(terminal.err()).toMatch(/a {2}submitted {2}task 111 {2}\d+s/);
  });

  it("on a TTY, a failure longer than the terminal is shown whole, over several rows", async () => {
    const message = `the output failed moderation ${"and here is why ".repeat(12)}end of message`;
    const failed: BatchEvent = {
      type: "end",
      job: job("b"),
      status: "failed",
      files: [],
      error: { code: 50511, message },
    };
    const terminal = await show(
      [plan, { type: "start", job: job("b"), action: "submit", reason: "new" }, failed],
      {
        tty: true,
      },
    );
    // The fake terminal is 100 columns wide: no row is longer, and every character arrives.
    const text = terminal.err().replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "");
    const rows = text.split(/\r?\n/).filter((row) => row.includes("moderation") || row.includes("why"));
    for (const row of rows) expect(row.length).toBeLessThanOrEqual(100);
    expect(rows.join("").replace(/\s+/g, "")).toContain(`${message} [50511]`.replace(/\s+/g, ""));
  });

  it("stays silent with --quiet", async () => {
    const terminal = await show(run, { tty: false, quiet: true });
    expect(terminal.err()).toBe("");
  });
});
