/**
 * `jimeng batch --dry-run` for a fresh run, streamed: the file is read twice (once to validate and measure the
 * columns, once to print), so a million-job plan prints in flat memory. Each row is written with backpressure.
 * Same table and `--json` document as the in-memory plan (`--resume` plans in memory: it matches jobs by content).
 */
import { once } from "node:events";
import { type ValidateBatchOptions, validateBatch } from "../batch/files.js";
import type { BatchJob } from "../batch/job.js";
import type { ProviderName } from "../errors.js";
import type { Provider } from "../providers/types.js";
import type { CommandContext } from "./command-table.js";

const HEADER = ["LINE", "ID", "KIND", "PROVIDER", "MODEL", "OUTPUTS", "ACTION"];
/** Rows per write. */
const CHUNK = 500;

interface Row {
  id: string;
  line: number;
  kind: string;
  provider: ProviderName;
  model: string;
  action: "submit";
  reason: "new";
  outputs: number;
}

export type RowSource = (job: BatchJob) => { provider: Provider; row: Row; video: boolean };

/** The plan row of a job that a fresh run submits. */
export function rowFor(job: BatchJob, provider: Provider): { row: Row; video: boolean } {
  const model = provider.resolveModel(job.model, job.kind);
  const video = model.output === "video";
  return {
    video,
    row: {
      id: job.id,
      line: job.source.line,
      kind: job.kind,
      provider: provider.name,
      model: model.id,
      action: "submit",
      reason: "new",
      outputs: video ? 1 : (job.count ?? 1),
    },
  };
}

function cells(row: Row): string[] {
  return [String(row.line), row.id, row.kind, row.provider, row.model, String(row.outputs), row.action];
}

/**
 * Streams the plan of `file` (already validated: `widths` measured by `measure` during that pass) to stdout.
 */
export async function printStreamedPlan(
  context: CommandContext,
  file: string,
  options: Pick<ValidateBatchOptions, "defaults">,
  providerOf: (job: BatchJob) => Provider,
  widths: number[],
): Promise<void> {
  const { output } = context;
  const stdout = context.io.stdout;
  const json = output.mode.json;
  let chunk: string[] = [];
  /** Waits for the stream to drain when it asked to: the file is read no faster than stdout takes it. */
  const write = async (text: string) => {
    if (!stdout.write(output.scrub(text))) await once(stdout, "drain");
  };
  const line = (values: string[]) =>
    values
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();

  let count = 0;
  let images = 0;
  let videos = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    const text = json ? chunk.join(",") : `${chunk.join("\n")}\n`;
    const prefix = json && count > chunk.length ? "," : "";
    chunk = [];
    await write(prefix + text);
  };
  await write(json ? '{"dryRun":true,"jobs":[' : `${line(HEADER)}\n`);
  await validateBatch(file, {
    ...options,
    keepJobs: false,
    checkImages: false,
    onJob: (job) => {
      const { row, video } = rowFor(job, providerOf(job));
      count++;
      if (video) videos++;
      else images += row.outputs;
      chunk.push(json ? JSON.stringify(row) : line(cells(row)));
      return chunk.length >= CHUNK ? flush() : undefined;
    },
  });
  await flush();
  const counts = { skip: 0, poll: 0, submit: count };
  const estimate = { images, videos };
  if (json) {
    await write(
      `],"counts":${JSON.stringify(counts)},"uncertain":[],"estimate":${JSON.stringify(estimate)}}\n`,
    );
  } else {
    await write(
      [
        "",
        `${count} jobs: ${count} to submit, 0 to poll, 0 to skip`,
        `estimated cost: ${images} image(s)${videos ? `, ${videos} video(s)` : ""} (at least; some models make more per request)`,
        "dry run: nothing was sent",
        "",
      ].join("\n"),
    );
  }
}

/** Column widths of the plan table, grown job by job during validation. */
export function columnMeter(): { widths: number[]; measure(job: BatchJob, provider: Provider): void } {
  const widths = HEADER.map((title) => title.length);
  return {
    widths,
    measure(job, provider) {
      cells(rowFor(job, provider).row).forEach((cell, column) => {
        widths[column] = Math.max(widths[column] ?? 0, cell.length);
      });
    },
  };
}
