/**
 * What every tool handler shares: the task client, the sandbox, the tasks this server knows, the waits in
 * progress (so that the client's cancellation and the cancel tool can stop them), progress notifications,
 * and results that pass the credential scrubber and the sandbox's last check.
 */
import type { CallToolResult, ServerContext } from "@modelcontextprotocol/server";
import { ValidationError, type ValidationIssue } from "../errors.js";
import type { DownloadedFile } from "../media/download.js";
import type { GenerationRequest } from "../providers/request.js";
import type { ModelCapability, TaskRef } from "../providers/types.js";
import type { Jimeng } from "../tasks/client.js";
import type { BatchRuns } from "./batch.js";
import { toolError } from "./errors.js";
import { type ProgressReporter, progressReporter } from "./progress.js";
import { filesResult, type TaskSummary, textResult } from "./results.js";
import type { Sandbox } from "./sandbox.js";

/** What the server remembers about a task, to pick it up by id alone. */
export interface KnownTask {
  ref: TaskRef;
  prompt?: string;
}

export interface JimengMcpOptions {
  jimeng: Jimeng;
  sandbox: Sandbox;
  /** Largest image returned inline as `image` content, in bytes (0: never). */
  inlineMaxBytes: number;
  /** Removes credentials from every text the server returns. */
  scrub: (text: string) => string;
  /** A line on stderr (never stdout: it carries the protocol). */
  log: (line: string) => void;
  /** Records a submitted task (the CLI's task list), so `jimeng result <id>` works later too. */
  remember?: (task: KnownTask) => Promise<void>;
  /** Looks a task up in the task list when this server did not submit it. */
  lookup?: (taskId: string) => Promise<KnownTask | undefined>;
  batches?: BatchRuns;
}

export class ToolKit {
  readonly jimeng: Jimeng;
  readonly sandbox: Sandbox;
  readonly models: readonly ModelCapability[];
  readonly log: (line: string) => void;
  readonly #options: JimengMcpOptions;
  readonly #known = new Map<string, KnownTask>();
  readonly #waits = new Map<string, Set<AbortController>>();

  constructor(options: JimengMcpOptions) {
    this.#options = options;
    this.jimeng = options.jimeng;
    this.sandbox = options.sandbox;
    this.models = options.jimeng.provider.models;
    this.log = options.log;
  }

  get providerName(): string {
    return this.jimeng.provider.name;
  }

  /** Keeps a submitted task for `result` and records it in the task list (a failure there is only logged). */
  async remember(task: KnownTask): Promise<void> {
    this.#known.set(task.ref.taskId, task);
    this.log(`submitted task ${task.ref.taskId} (${task.ref.provider} · ${task.ref.model})`);
    await this.#options.remember?.(task).catch((error: unknown) => {
      this.log(`could not record task ${task.ref.taskId}: ${error instanceof Error ? error.message : error}`);
    });
  }

  async find(taskId: string): Promise<KnownTask | undefined> {
    return this.#known.get(taskId) ?? (await this.#options.lookup?.(taskId));
  }

  /**
   * Runs `work` with a signal that the client's cancellation aborts, as does `stopWaits` for every task id
   * passed to `track`.
   */
  async watch<T>(
    ctx: ServerContext,
    work: (signal: AbortSignal, track: (taskId: string) => void) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    const request = ctx.mcpReq.signal;
    const onAbort = () => controller.abort(request.reason);
    if (request.aborted) controller.abort(request.reason);
    request.addEventListener("abort", onAbort, { once: true });
    const tracked: string[] = [];
    const track = (taskId: string) => {
      const set = this.#waits.get(taskId) ?? new Set<AbortController>();
      set.add(controller);
      this.#waits.set(taskId, set);
      tracked.push(taskId);
    };
    try {
      return await work(controller.signal, track);
    } finally {
      request.removeEventListener("abort", onAbort);
      for (const taskId of tracked) this.#waits.get(taskId)?.delete(controller);
    }
  }

  /** Aborts every wait for `taskId`; returns how many there were. */
  stopWaits(taskId: string): number {
    const controllers = this.#waits.get(taskId) ?? new Set();
    for (const controller of controllers) controller.abort();
    this.#waits.delete(taskId);
    return controllers.size;
  }

  /** Progress notifications for this call, when the client asked for them (await `flush` before returning). */
  progress(ctx: ServerContext): ProgressReporter {
    const token = ctx.mcpReq._meta?.progressToken;
    if (token === undefined) return progressReporter(undefined);
    const request = ctx.mcpReq;
    return progressReporter(async ({ progress, message }) => {
      // A cancelled call's client no longer listens for its token.
      if (request.signal.aborted) return;
      await request.notify({
        method: "notifications/progress",
        params: { progressToken: token, progress, message },
      });
    });
  }

  /** Replaces local references with their checked real paths; throws ValidationError naming `images.N`. */
  async checkImages(request: GenerationRequest): Promise<void> {
    if (!request.images) return;
    const issues: ValidationIssue[] = [];
    const checked: string[] = [];
    for (const [index, image] of (request.images as string[]).entries()) {
      try {
        checked.push(await this.sandbox.input(image, `images.${index}`));
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        issues.push(...error.issues);
      }
    }
    if (issues.length) throw new ValidationError(issues);
    request.images = checked;
  }

  /** The result for saved files, each checked to lie inside the output folder. */
  async files(summary: TaskSummary, files: readonly DownloadedFile[]): Promise<CallToolResult> {
    for (const file of files) {
      if (!(await this.sandbox.holds(file.file))) {
        throw new Error(`refusing to return ${file.file}: it is outside ${this.sandbox.out}`);
      }
    }
    return this.#scrubbed(await filesResult(summary, files, this.#options.inlineMaxBytes));
  }

  /** A JSON text result. */
  json(value: unknown, isError = false): CallToolResult {
    return this.#scrubbed(textResult(value, isError));
  }

  /** A tool error for `error`; the wait on `taskId` (if any) is named so the agent can pick it up. */
  error(error: unknown, taskId?: string): CallToolResult {
    return toolError(error, this.#options.scrub, taskId);
  }

  #scrubbed(result: CallToolResult): CallToolResult {
    for (const item of result.content) if (item.type === "text") item.text = this.#options.scrub(item.text);
    return result;
  }
}
