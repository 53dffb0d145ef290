/**
 * Download benchmark: a large output served over loopback, streamed to disk by `downloadOutputs`, against
 * `curl -s -o` fetching the same bytes in the same run; and how much the process's RSS grows while it
 * happens (the body must stream, never sit in memory). Also a base64 output decoded to disk.
 *
 * The server runs in a child process, so it neither competes with the downloader for this event loop nor
 * counts towards its RSS; it generates the body from one 1 MB chunk, never holding the whole body.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { HttpTransport } from "../../src/http/transport.js";
import { downloadOutputs } from "../../src/media/download.js";
import type { Bench, BenchFigure } from "./types.js";

const MB = 1024 * 1024;

const SERVER = `
import { createServer } from "node:http";
const size = Number(process.argv[1]);
const chunk = Buffer.alloc(1 << 20, 7);
chunk.write("\\0\\0\\0\\x18ftypmp42", 0, "latin1");
createServer((req, res) => {
  res.writeHead(200, { "content-type": "video/mp4", "content-length": size });
  let sent = 0;
  const pump = () => {
    while (sent < size) {
      const n = Math.min(chunk.length, size - sent);
      sent += n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once("drain", pump);
    }
    res.end();
  };
  pump();
}).listen(0, "127.0.0.1", function () { process.stdout.write(this.address().port + "\\n"); });
`;

async function startServer(size: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", SERVER, String(size)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout as NonNullable<ChildProcess["stdout"]> });
  const port = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`benchmark server exited (${code})`)));
  });
  lines.close();
  return { url: `http://127.0.0.1:${port.trim()}/video.mp4`, child };
}

function hasCurl(): boolean {
  const probe = spawnSync("curl", ["--version"], { stdio: "ignore" });
  return probe.error === undefined && probe.status === 0;
}

async function curl(url: string, file: string): Promise<number> {
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const child = spawn("curl", ["-s", "-o", file, url], { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`curl exited ${code}`))));
  });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Runs `action` while sampling RSS every few ms; returns its seconds and the peak RSS growth in bytes. */
async function measured(action: () => Promise<unknown>): Promise<{ seconds: number; rssGrowth: number }> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const started = process.hrtime.bigint();
  try {
    await action();
  } finally {
    clearInterval(sampler);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  peak = Math.max(peak, process.memoryUsage.rss());
  return { seconds, rssGrowth: peak - baseline };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export const run: Bench = async ({ quick }) => {
  const size = (quick ? 8 : 200) * MB;
  const base64Size = (quick ? 2 : 20) * MB;
  const runs = quick ? 2 : 5;
  const dir = await mkdtemp(join(tmpdir(), "jimeng-bench-download-"));
  const { url, child } = await startServer(size);
  const transport = new HttpTransport();
  const context = { prompt: "benchmark", model: "bench", taskId: "bench" };
  const curlAvailable = hasCurl();
  const figures: BenchFigure[] = [];
  try {
    const ours: number[] = [];
    const theirs: number[] = [];
    const growth: number[] = [];
    for (let i = 0; i < runs; i++) {
      let written = "";
      const result = await measured(async () => {
        const [file] = await downloadOutputs([{ url }], { dir, name: `sdk-${i}`, context, transport });
        written = file?.file ?? "";
      });
      ours.push(size / MB / result.seconds);
      growth.push(result.rssGrowth / MB);
      await rm(written, { force: true });
      if (curlAvailable) {
        const file = join(dir, `curl-${i}.mp4`);
        theirs.push(size / MB / (await curl(url, file)));
        await rm(file, { force: true });
      }
    }
    const value = median(ours);
    const sizeLabel = `${size / MB} MB`;
    const note = `median of ${runs} alternating runs, loopback, server in a child process; SHA-256 computed while streaming`;
    if (curlAvailable) {
      const baseline = median(theirs);
      const ratio = value / baseline;
      figures.push({
        suite: "download",
        name: `${sizeLabel} URL → disk throughput`,
        value: round(value, 0),
        unit: "MB/s",
        baseline: { name: "curl -s -o", value: round(baseline, 0) },
        ratio: round(ratio, 2),
        target: "≥ 0.9×",
        met: ratio >= 0.9,
        note,
      });
    } else {
      figures.push({
        suite: "download",
        name: `${sizeLabel} URL → disk throughput`,
        value: round(value, 0),
        unit: "MB/s",
        target: "≥ 0.9× curl",
        note: `${note}; curl not found, so no baseline was measured`,
      });
    }
    const [first = 0, ...later] = growth;
    figures.push({
      suite: "download",
      name: `RSS growth, first ${sizeLabel} download in the process`,
      value: round(first),
      unit: "MB",
      target: "≤ 30 MB",
      met: first <= 30,
      note: "includes garbage chunks V8 collects only past its 64 MB external-memory threshold; does not grow with size",
    });
    const steady = Math.max(...later);
    figures.push({
      suite: "download",
      name: `RSS growth, later ${sizeLabel} downloads`,
      value: round(steady),
      unit: "MB",
      target: "≤ 30 MB",
      met: steady <= 30,
      note: `peak over runs 2–${runs}, sampled every 5 ms`,
    });

    let text: string | undefined = randomBytes(base64Size).toString("base64");
    const outputs = [{ base64: text }];
    text = undefined;
    const decoded = await measured(() =>
      downloadOutputs(outputs, { dir, name: "base64", context, transport, maxBytes: 2 * base64Size }),
    );
    figures.push({
      suite: "download",
      name: `RSS growth, ${base64Size / MB} MB base64 → disk`,
      value: round(decoded.rssGrowth / MB),
      unit: "MB",
      target: "≤ 30 MB",
      met: decoded.rssGrowth / MB <= 30,
      note: `decoded in 1 M-character slices in ${round(decoded.seconds * 1000, 0)} ms; the string itself is not counted`,
    });
  } finally {
    await transport.close();
    child.kill();
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
};
