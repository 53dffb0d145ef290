/**
 * The batch display on a terminal, as a user sees it: the bytes the progress bars write are played on a
 * screen of a given width, and the tests look at the rows that result.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { BatchEvent } from "../../src/batch/runner.js";
import { type BatchProgress, createBatchProgress } from "../../src/cli/batch-progress.js";
import { Output } from "../../src/cli/output.js";
import { job, plan, ref } from "../helpers/batch-events.js";
import { Screen } from "../helpers/screen.js";

const start = (id: string): BatchEvent => ({ type: "start", job: job(id), action: "submit", reason: "new" });
const submitted = (id: string, taskId: string): BatchEvent => ({
  type: "submitted",
  job: job(id),
  ref: ref(taskId),
});
const failed = (id: string, message: string): BatchEvent => ({
  type: "end",
  job: job(id),
  status: "failed",
  files: [],
  error: { code: 50511, message },
});

/** A progress display drawing on a screen `width` columns wide; every event is followed by a frame. */
async function display(width: number) {
  const screen = new Screen(width);
  const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: width });
  stderr.on("data", (chunk: Buffer) => screen.write(chunk.toString("utf8")));
  const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: width });
  const output = new Output({ stdout, stderr, env: {} }, {});
  const progress: BatchProgress = await createBatchProgress(output);
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    async show(...events: BatchEvent[]) {
      for (const event of events) {
        progress.onEvent(event);
        progress.render();
      }
      await settle();
      return screen.rows();
    },
    async warn(text: string) {
      progress.warn(text);
      progress.render();
      await settle();
      return screen.rows();
    },
    async stop() {
      progress.stop();
      await settle();
      return screen.rows();
    },
  };
}

describe("batch display on a terminal", () => {
  it("each running job has one row with its real state and task id, whatever logs pass above", async () => {
    const d = await display(80);
    await d.show(plan(3), start("a"), start("b"), start("c"), submitted("a", "7392616336519618328"));
    const rows = await d.show(failed("c", "the prompt was refused by moderation"), submitted("b", "222"));
    const jobRows = rows.filter((row) => /^ {2}[abc] {2}/.test(row));
    expect(jobRows).toEqual([
      expect.stringMatching(/^ {2}a {2}submitted {2}task 7392616336519618328 {2}\d+s$/),
      expect.stringMatching(/^ {2}b {2}submitted {2}task 222 {2}\d+s$/),
    ]);
    expect(rows.filter((row) => row.includes("done ·"))).toHaveLength(1);
    expect(rows.filter((row) => row.includes("✖ c: failed"))).toHaveLength(1);
  });

  it("a failure longer than the terminal is shown whole (broken at spaces), once, with nothing left over from earlier rows", async () => {
    const message = `the output failed moderation ${"and here is why ".repeat(8)}end of message`;
    const d = await display(60);
    await d.show(plan(4), start("a"), start("b"), start("c"), start("d"));
    await d.show(submitted("a", "111"), submitted("b", "222"), submitted("d", "444"));
    const rows = await d.show(failed("c", message));
    const first = rows.findIndex((row) => row.startsWith("✖ c: failed"));
    const last = rows.findIndex((row) => row.endsWith("[50511]"));
    expect(first).toBeGreaterThan(0);
    expect(rows.slice(first, last + 1).join(" ")).toBe(`✖ c: failed: ${message} [50511]`);
    // The whole picture: the plan line, the failure, the overall bar, one row per running job; nothing else.
    expect(rows).toEqual([
      "4 jobs: 4 to submit",
      ...rows.slice(first, last + 1),
      expect.stringContaining("1/4 done · 1 failed · 3 running"),
      expect.stringMatching(/^ {2}a {2}submitted {2}task 111 {2}\d+s$/),
      expect.stringMatching(/^ {2}b {2}submitted {2}task 222 {2}\d+s$/),
      expect.stringMatching(/^ {2}d {2}submitted {2}task 444 {2}\d+s$/),
    ]);
    for (const row of rows) expect([...row].length).toBeLessThanOrEqual(60);
  });

  it("after Ctrl-C, no row of a job that was running stays on the screen", async () => {
    const d = await display(80);
    await d.show(plan(2), start("a"), start("b"), submitted("a", "111"));
    await d.show({ type: "interrupted" });
    const rows = await d.stop();
    expect(rows.filter((row) => /^ {2}[ab] {2}/.test(row))).toEqual([]);
    expect(rows.filter((row) => row.includes("done ·"))).toHaveLength(1);
    expect(rows.some((row) => row.startsWith("interrupted: no more submits"))).toBe(true);
  });

  it("a warning during the run is printed above the bars, not over them", async () => {
    const d = await display(80);
    await d.show(plan(1), start("a"), submitted("a", "111"));
    const rows = await d.warn("job a changed while its task 99 was still running");
    expect(rows).toEqual([
      "1 job: 1 to submit",
      "warning: job a changed while its task 99 was still running",
      expect.stringContaining("0/1 done · 0 failed · 1 running"),
      expect.stringMatching(/^ {2}a {2}submitted {2}task 111 {2}\d+s$/),
    ]);
  });
});
