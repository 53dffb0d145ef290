import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { Output } from "../../src/cli/output.js";

/** A TTY that reports `columns` and counts the cursor moves ora makes (a runaway clear loop throws). */
function terminal(columns: number | undefined) {
  const stream = new PassThrough() as PassThrough & Record<string, unknown>;
  let clears = 0;
  let text = "";
  stream.on("data", (chunk) => {
    text += chunk;
  });
  Object.assign(stream, {
    isTTY: true,
    columns,
    cursorTo: () => true,
    moveCursor: () => true,
    clearLine: () => {
      clears++;
      if (clears > 10_000) throw new Error("the spinner keeps clearing lines");
      return true;
    },
  });
  return { stream, clears: () => clears, text: () => text };
}

describe("the spinner on terminals of any width", () => {
  for (const columns of [0, undefined, 1, 80]) {
    it(`ends cleanly on a terminal that reports ${String(columns)} columns`, async () => {
      const tty = terminal(columns);
      const ora = import("ora").then((module) => module.default);
      const output = new Output(
        { stdout: new PassThrough(), stderr: tty.stream, env: {} },
        { color: false },
        { loadOra: () => ora },
      );
      expect(output.mode.interactive).toBe(true);
      output.progress.phase("submitting");
      await ora;
      await Promise.resolve();
      output.progress.phase("running 3 s, a phase text long enough to wrap on a narrow terminal");
      output.progress.info("submitted task 123");
      output.progress.succeed("saved 1 file");
      expect(tty.clears()).toBeLessThan(1000);
      expect(tty.text()).toContain("saved 1 file");
    });
  }
});
