import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Bench, BenchFigure } from "./types.js";

const BIN = fileURLToPath(new URL("../../bin/jimeng.js", import.meta.url));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Median wall time of `node ...args` over `runs` runs, after one warm-up run (file-system cache). */
function wallTime(args: string[], runs: number): number {
  spawnSync(process.execPath, args);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { stdio: "ignore" });
    if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited ${result.status}`);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(times);
}

/** `jimeng --version` and `--help` wall time against `node -e 0`, measured side by side. */
export const run: Bench = async ({ quick }) => {
  if (!existsSync(new URL("../../dist/cli/main.js", import.meta.url))) {
    throw new Error("dist/ is missing: run `npm run build` first");
  }
  const runs = quick ? 3 : 25;
  const baseline = wallTime(["-e", "0"], runs);
  const figures: BenchFigure[] = [];
  for (const [flag, target] of [
    ["--version", 1.3],
    ["--help", 1.6],
  ] as const) {
    const value = wallTime([BIN, flag], runs);
    const ratio = value / baseline;
    figures.push({
      suite: "cold start",
      name: `jimeng ${flag}`,
      value: Math.round(value * 10) / 10,
      unit: "ms",
      baseline: { name: "node -e 0", value: Math.round(baseline * 10) / 10 },
      ratio: Math.round(ratio * 100) / 100,
      target: `≤ ${target}×`,
      met: ratio <= target,
      note: `median of ${runs} runs`,
    });
  }
  return figures;
};
