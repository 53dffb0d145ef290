/**
 * What a resume checks before it skips a succeeded job: every file the journal recorded is still in the
 * output folder with the recorded size and sha256. A CI cache that keeps only `.jimeng/`, a deleted or an
 * edited file all show up here, so the job's outputs are downloaded again instead of reported as done.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { JournalFileEntry } from "./journal.js";

export type FileProblem = { file: string; problem: "missing" | "changed" };

/** The recorded files that are missing or differ from the journal (empty when all are intact). */
export async function checkRecordedFiles(
  out: string,
  files: readonly JournalFileEntry[],
): Promise<FileProblem[]> {
  const problems: FileProblem[] = [];
  for (const entry of files) {
    const full = path.join(out, ...entry.file.split("/"));
    const info = await stat(full).catch(() => undefined);
    if (!info?.isFile()) {
      problems.push({ file: entry.file, problem: "missing" });
    } else if (info.size !== entry.bytes || (await sha256Of(full)) !== entry.sha256) {
      problems.push({ file: entry.file, problem: "changed" });
    }
  }
  return problems;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** "b-1.png is missing", "2 files are missing or changed (b-1.png, b-2.png)" */
export function describeProblems(problems: readonly FileProblem[]): string {
  const [first] = problems;
  if (problems.length === 1 && first) return `${first.file} is ${first.problem}`;
  return `${problems.length} files are missing or changed (${problems.map((p) => p.file).join(", ")})`;
}
