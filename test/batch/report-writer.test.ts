import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { BatchReportJob } from "../../src/batch/report.js";
import { ReportWriter } from "../../src/batch/report-writer.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function writer(options: { retain?: boolean; redact?: (text: string) => string } = {}) {
  dir = await mkdtemp(path.join(tmpdir(), "jimeng-report-"));
  await mkdir(path.join(dir, ".jimeng"));
  return ReportWriter.open(dir, options);
}

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let all = "";
  for await (const chunk of chunks) all += chunk;
  return all;
}

const entries: BatchReportJob[] = [
  { id: "a", status: "succeeded", taskId: "t1", files: [{ file: "a-1.png", sha256: "aa", bytes: 1 }] },
  { id: "b", status: "failed", taskId: null, files: [], error: { code: 50511, message: "no secret-123" } },
  { id: "c", status: "expired", taskId: "t3", files: [] },
  { id: "d", status: "queued", taskId: null, files: [] },
];
const summary = {
  interrupted: true,
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: "2026-01-01T00:01:00.000Z",
};

describe("ReportWriter", () => {
  it("writes entries in job order whatever order they finish in, and counts them", async () => {
    const report = await writer({ retain: true });
    await report.add(2, entries[2] as BatchReportJob);
    await report.add(0, entries[0] as BatchReportJob);
    expect(report.written).toBe(1);
    await report.add(3, entries[3] as BatchReportJob);
    await report.add(1, entries[1] as BatchReportJob);
    expect(report.written).toBe(4);
    await report.close();
    const document = report.report(summary);
    expect(document).toMatchObject({ total: 4, succeeded: 1, failed: 2, interrupted: true, jobs: entries });
    // The streamed text is exactly JSON.stringify of the whole report, pretty or compact.
    expect(await text(report.chunks(summary, 2))).toBe(JSON.stringify(document, null, 2));
    expect(await text(report.chunks(summary))).toBe(JSON.stringify(document));
  });

  it("prints an empty report and the superseded entries the same way JSON.stringify does", async () => {
    const report = await writer();
    await report.close();
    const withKept = { ...summary, superseded: [{ ...(entries[0] as BatchReportJob), replacedBy: "x" }] };
    expect(await text(report.chunks(withKept, 2))).toBe(JSON.stringify(report.report(withKept), null, 2));
    expect(report.report(withKept).jobs).toEqual([]);
  });

  it("redacts what it spools and what it prints", async () => {
    const report = await writer({ redact: (line) => line.replaceAll("secret-123", "***") });
    for (const [position, entry] of entries.entries()) await report.add(position, entry);
    await report.close();
    const file = path.join(dir ?? "", "report.json");
    await report.writeFile(file, summary);
    const written = await readFile(file, "utf8");
    expect(written).not.toContain("secret-123");
    expect(await readFile(report.spoolFile, "utf8")).not.toContain("secret-123");
    expect(JSON.parse(written).jobs[1].error.message).toBe("no ***");
  });
});
