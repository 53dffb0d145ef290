/**
 * The `batch` tool: a batch file (inside the allowed folders) or an inline job list, validated whole before
 * anything is sent, then run in the background by the batch engine (journal, resume, report) in its own
 * folder under the output folder. The call returns the run id and that folder at once; calling the tool
 * again with the run id reports progress, and the report once the run ended.
 */
import { randomBytes } from "node:crypto";
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { validateBatch, validateJobs } from "../batch/files.js";
import { type BatchJob, isRemoteImage, toGenerationRequest } from "../batch/job.js";
import type { BatchReport } from "../batch/report.js";
import { runBatch } from "../batch/runner.js";
import { ValidationError, type ValidationIssue } from "../errors.js";
import { generationRequestSchema } from "../providers/request.js";
import { checkRequestFields } from "../providers/rules.js";
import type { Provider } from "../providers/types.js";
import type { Jimeng } from "../tasks/client.js";
import type { Sandbox } from "./sandbox.js";
import type { ToolKit } from "./toolkit.js";

interface Run {
  runId: string;
  out: string;
  total: number;
  ended: number;
  succeeded: number;
  failed: number;
  report?: BatchReport;
  error?: string;
  controller: AbortController;
  done: Promise<void>;
}

export interface BatchRunsOptions {
  provider: Provider;
  sandbox: Sandbox;
  /** The task client over a provider (poll pacing). */
  jimeng: (provider: Provider) => Jimeng;
  log: (line: string) => void;
}

/** Pure: a run id that sorts by start time. */
export function newRunId(now: Date, random: string): string {
  return `batch-${now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}-${random}`;
}

export class BatchRuns {
  readonly #options: BatchRunsOptions;
  readonly #runs = new Map<string, Run>();

  constructor(options: BatchRunsOptions) {
    this.#options = options;
  }

  /** Problems of one job: its model, options and images (local ones must be in the allowed folders). */
  async #checkJob(job: BatchJob): Promise<ValidationIssue[]> {
    const { provider, sandbox } = this.#options;
    if (job.provider !== undefined && job.provider !== provider.name) {
      return [{ path: "provider", message: `this server runs the ${provider.name} provider only` }];
    }
    try {
      const model = provider.resolveModel(job.model, job.kind);
      const parsed = generationRequestSchema.safeParse(toGenerationRequest(job));
      const issues = parsed.success ? checkRequestFields(parsed.data, model) : [];
      for (const [index, image] of (job.images ?? []).entries()) {
        if (isRemoteImage(image)) continue;
        try {
          await sandbox.input(image, `images.${index}`);
        } catch (error) {
          if (error instanceof ValidationError) issues.push(...error.issues);
          else throw error;
        }
      }
      return issues;
    } catch (error) {
      if (error instanceof ValidationError) {
        return error.issues.map((issue) => ({ path: issue.path || "model", message: issue.message }));
      }
      throw error;
    }
  }

  async start(input: { file?: string; jobs?: unknown[]; concurrency?: number }): Promise<Run> {
    const { sandbox } = this.#options;
    if ((input.file === undefined) === (input.jobs === undefined)) {
      throw new ValidationError([{ path: "file", message: "give either file or jobs (one of them)" }]);
    }
    const validateJob = (job: BatchJob) => this.#checkJob(job);
    let validation: Awaited<ReturnType<typeof validateBatch>>;
    if (input.file !== undefined) {
      validation = await validateBatch(await sandbox.input(input.file, "file"), { validateJob });
    } else {
      validation = await validateJobs(input.jobs ?? [], { file: "jobs", validateJob });
    }
    if (!validation.ok) {
      // Each problem names its place: `file:line: field` for a file, `jobs.N.field` for an inline list.
      throw new ValidationError(
        validation.issues.map((issue) => {
          const where = input.file !== undefined ? `${input.file}:${issue.line}` : `jobs.${issue.line - 1}`;
          const field = issue.path ? (input.file !== undefined ? `: ${issue.path}` : `.${issue.path}`) : "";
          return { path: `${where}${field}`, message: issue.message };
        }),
      );
    }
    const runId = newRunId(new Date(), randomBytes(3).toString("hex"));
    const out = sandbox.outputFolder("batches", runId);
    const controller = new AbortController();
    const run: Run = {
      runId,
      out,
      total: validation.jobs.length,
      ended: 0,
      succeeded: 0,
      failed: 0,
      controller,
      done: Promise.resolve(),
    };
    run.done = runBatch({
      jobs: validation.jobs,
      provider: this.#options.provider,
      jimeng: this.#options.jimeng,
      out,
      signal: controller.signal,
      ...(input.concurrency !== undefined ? { concurrency: input.concurrency } : {}),
      onEvent: (event) => {
        if (event.type !== "end") return;
        run.ended++;
        if (event.status === "succeeded") run.succeeded++;
        else run.failed++;
      },
    }).then(
      (result) => {
        run.report = result.report;
        this.#options.log(`batch ${runId}: ${result.report.succeeded} of ${result.report.total} succeeded`);
      },
      (error: unknown) => {
        run.error = error instanceof Error ? error.message : String(error);
        this.#options.log(`batch ${runId} stopped: ${run.error}`);
      },
    );
    this.#runs.set(runId, run);
    this.#options.log(`batch ${runId}: ${run.total} job(s) into ${out}`);
    return run;
  }

  status(runId: string): Record<string, unknown> {
    const run = this.#runs.get(runId);
    if (!run) throw new ValidationError([{ path: "runId", message: `no batch run ${runId} on this server` }]);
    const state = run.report ? "finished" : run.error ? "stopped" : "running";
    return {
      runId,
      out: run.out,
      state,
      total: run.total,
      ended: run.ended,
      succeeded: run.succeeded,
      failed: run.failed,
      ...(run.error ? { error: run.error } : {}),
      ...(run.report ? { report: `${run.out}/report.json`, jobs: run.report.jobs } : {}),
    };
  }

  /** Stops every run (no more submits; the journals keep what was submitted for a resume). */
  async close(): Promise<void> {
    for (const run of this.#runs.values()) run.controller.abort();
    await Promise.all([...this.#runs.values()].map((run) => run.done));
  }

  register(server: McpServer, kit: ToolKit): void {
    const { provider, sandbox } = this.#options;
    server.registerTool(
      "batch",
      {
        title: "Run a batch of jobs",
        description: `Starts many generation jobs at once from a batch file (.jsonl, .json or .txt; ${sandbox.describeInputs()}) or an inline list of jobs (the fields of the generate tool plus kind and id). COSTS MONEY: one paid task per job. Every job is checked first (nothing is sent if any is wrong). Returns at once with the run id and its output folder under ${sandbox.out}/batches; call this tool again with {"runId": ...} for progress and, when finished, the report. Provider: ${provider.name}.`,
        inputSchema: z.strictObject({
          file: z.string().min(1).optional().describe("a batch file (.jsonl, .json or .txt)"),
          jobs: z
            .array(z.record(z.string(), z.unknown()))
            .min(1)
            .optional()
            .describe(
              'jobs, e.g. [{"prompt": "a red fox", "count": 2}, {"kind": "video", "prompt": "waves"}]',
            ),
          concurrency: z
            .number()
            .int()
            .min(1)
            .max(32)
            .optional()
            .describe("jobs in flight at once (default 4)"),
          runId: z
            .string()
            .min(1)
            .optional()
            .describe("a run this tool started: report its progress instead"),
        }),
        annotations: {
          readOnlyHint: false,
          destructiveHint: false,
          idempotentHint: false,
          openWorldHint: true,
        },
      },
      async (args) => {
        try {
          if (args.runId !== undefined) return kit.json(this.status(args.runId));
          const run = await this.start({
            ...(args.file !== undefined ? { file: args.file } : {}),
            ...(args.jobs !== undefined ? { jobs: args.jobs } : {}),
            ...(args.concurrency !== undefined ? { concurrency: args.concurrency } : {}),
          });
          return kit.json({
            runId: run.runId,
            out: run.out,
            jobs: run.total,
            next: `call batch with {"runId": "${run.runId}"} for progress; the report goes to ${run.out}/report.json`,
          });
        } catch (error) {
          return kit.error(error);
        }
      },
    );
  }
}
