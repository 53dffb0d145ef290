/**
 * `jimeng batch --dry-run`, streamed: the file is read once to validate and measure the columns, then again to
 * print (with `--resume`, twice more before that, for the planner to match jobs to the journal by id and by
 * content), so a million-job plan prints in flat memory. Each row is written with backpressure.
 */
import { once } from "node:events";
import type { ValidateBatchOptions } from "../batch/files.js";
import type { BatchJob } from "../batch/job.js";
import { batchFileJobs } from "../batch/job-source.js";
import type { PlanAction, PlanReason, ResumePlanner } from "../batch/plan.js";
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
  action: PlanAction;
  reason: PlanReason;
  outputs: number;
}

export type RowSource = (job: BatchJob) => { provider: Provider; row: Row; video: boolean };

/** The plan row of a job (by default, one that a fresh run submits). */
export function rowFor(
  job: BatchJob,
  provider: Provider,
  decision: { action: PlanAction; reason: PlanReason } = { action: "submit", reason: "new" },
): { row: Row; video: boolean } {
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
      action: decision.action,
      reason: decision.reason,
      outputs: video ? 1 : (job.count ?? 1),
    },
  };
}

function cells(row: Row): string[] {
  const action = row.action === "submit" ? row.action : `${row.action} (${row.reason})`;
  return [String(row.line), row.id, row.kind, row.provider, row.model, String(row.outputs), action];
}

/**
 * Streams the plan of `file` (already validated: `widths` measured by `measure` during that pass) to stdout:
 * every job submitted, or what `planner` (a resume's) decides for each.
 */
export async function printStreamedPlan(
  context: CommandContext,
  file: string,
  options: Pick<ValidateBatchOptions, "defaults">,
  providerOf: (job: BatchJob) => Provider,
  widths: number[],
  planner?: ResumePlanner,
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
  const counts: Record<PlanAction, number> = { skip: 0, poll: 0, submit: 0 };
  const uncertain: string[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    const text = json ? chunk.join(",") : `${chunk.join("\n")}\n`;
    const prefix = json && count > chunk.length ? "," : "";
    chunk = [];
    await write(prefix + text);
  };
  const jobs = batchFileJobs(file, options);
  if (planner?.needsClaims) {
    for await (const job of jobs()) planner.claimOwn(job);
    for await (const job of jobs()) planner.takeOver(job);
  }
  await write(json ? '{"dryRun":true,"jobs":[' : `${line(HEADER)}\n`);
  for await (const job of jobs()) {
    const decision = planner?.decide(job);
    const { row, video } = rowFor(job, providerOf(job), decision);
    count++;
    counts[row.action]++;
    if (row.reason === "uncertain") uncertain.push(row.id);
    if (row.action === "submit" && video) videos++;
    else if (row.action === "submit") images += row.outputs;
    chunk.push(json ? JSON.stringify(row) : line(cells(row)));
    if (chunk.length >= CHUNK) await flush();
  }
  await flush();
  const estimate = { images, videos };
  if (json) {
    await write(
      `],"counts":${JSON.stringify(counts)},"uncertain":${JSON.stringify(uncertain)},"estimate":${JSON.stringify(estimate)}}\n`,
    );
  } else {
    await write(
      [
        "",
        `${count} jobs: ${counts.submit} to submit, ${counts.poll} to poll, ${counts.skip} to skip`,
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
