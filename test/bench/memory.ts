/**
 * Memory flat in the number of jobs: peak RSS (VmHWM) of the built `jimeng batch --dry-run` on a large `.txt`
 * batch file, in its own process. Target: ≤ 200 MB at 1 000 000 jobs (the smoke mode runs 20 000).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { peakRssOf } from "./batch.js";
import type { Bench } from "./types.js";

const BIN = fileURLToPath(new URL("../../bin/jimeng.js", import.meta.url));
const TARGET_MB = 200;

async function writeJobs(file: string, count: number): Promise<void> {
  const stream = createWriteStream(file);
  for (let index = 0; index < count; index++) {
    if (!stream.write(`a lighthouse on a cliff at dawn, watercolor, variation ${index}\n`))
      await once(stream, "drain");
  }
  stream.end();
  await once(stream, "close");
}

async function dryRunPeak(count: number): Promise<{ peakBytes: number; ms: number; code: number | null }> {
  const dir = await mkdtemp(path.join(tmpdir(), "jimeng-bench-memory-"));
  try {
    const file = path.join(dir, "jobs.txt");
    await writeJobs(file, count);
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      CI: "1",
      JIMENG_CONFIG_DIR: path.join(dir, "config"),
      VOLC_ACCESSKEY: "AKLTbenchmark0000",
      VOLC_SECRETKEY: "benchmark-secret",
    };
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, "batch", file, "--dry-run", "-o", path.join(dir, "out")], {
      env,
      stdio: "ignore",
    });
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, child.pid ? (peakRssOf(child.pid) ?? 0) : 0);
    }, 25);
    const [code] = (await once(child, "exit")) as [number | null];
    clearInterval(sampler);
    return { peakBytes: peak, ms: performance.now() - started, code };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const run: Bench = async ({ quick }) => {
  const count = quick ? 20_000 : 1_000_000;
  const { peakBytes, ms, code } = await dryRunPeak(count);
  const mb = Math.round((peakBytes / 1024 / 1024) * 10) / 10;
  return [
    {
      suite: "memory",
      name: `peak RSS of \`jimeng batch --dry-run\`, ${count} jobs`,
      value: mb,
      unit: "MB",
      target: `≤ ${TARGET_MB} MB at 1 000 000 jobs`,
      met: quick ? undefined : mb <= TARGET_MB,
      note: `exit ${code}, ${Math.round(ms / 100) / 10} s`,
    },
  ];
};
