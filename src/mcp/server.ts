/**
 * The `jimeng mcp` server: the SDK's generation, task and batch functions as MCP tools. Every tool's input
 * schema comes from the provider's capability records (src/mcp/schemas.ts); every argument is checked before
 * anything is sent; files land only in the sandbox's output folder; every text passes the scrubber.
 */
import { McpServer, type ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import { AbortError, ValidationError, type ValidationIssue } from "../errors.js";
import type { DownloadedFile } from "../media/download.js";
import type { GenerationRequest } from "../providers/request.js";
import type { ModelCapability, TaskKind, TaskRef, TaskStatus } from "../providers/types.js";
import type { Jimeng } from "../tasks/client.js";
import { VERSION } from "../version.js";
import type { BatchRuns } from "./batch.js";
import { toolError } from "./errors.js";
import { progressReporter, type SendProgress } from "./progress.js";
import { filesResult, summaryOf, type TaskSummary, textResult } from "./results.js";
import type { Sandbox } from "./sandbox.js";
import { modelsFor, outputShape, requestShape, TASK_KINDS } from "./schemas.js";

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

const KIND_TEXT: Record<TaskKind, { title: string; what: string }> = {
  generate: { title: "Generate images", what: "Text-to-image (optionally with reference images)" },
  compose: {
    title: "Compose images",
    what: "Image-to-image / multi-image composition from reference images",
  },
  video: {
    title: "Generate a video",
    what: "Text-to-video, or image-to-video from a first (and last) frame",
  },
};

function timing(models: readonly ModelCapability[]): string {
  const typical = models.map((model) => model.expectedSeconds.typical);
  if (typical.length === 0) return "";
  const low = Math.min(...typical);
  const high = Math.max(...typical);
  return low === high ? `about ${low} s` : `about ${low}–${high} s depending on the model`;
}

function progressSender(ctx: ServerContext): SendProgress | undefined {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return undefined;
  return ({ progress, message }) =>
    ctx.mcpReq.notify({
      method: "notifications/progress",
      params: { progressToken: token, progress, message },
    });
}

/** Pure: the generation request a tool's arguments ask for. */
export function requestOf(kind: TaskKind, args: Record<string, unknown>): GenerationRequest {
  const { prompt, images, name: _name, timeoutSeconds: _timeout, kind: _kind, ...options } = args;
  const request: GenerationRequest = { kind, prompt: String(prompt ?? "") };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (request as Record<string, unknown>)[key] = value;
  }
  if (Array.isArray(images) && images.length > 0) request.images = images as string[];
  return request;
}

export function createJimengMcpServer(options: JimengMcpOptions): McpServer {
  const { jimeng, sandbox, scrub } = options;
  const models = jimeng.provider.models;
  const providerName = jimeng.provider.name;
  const known = new Map<string, KnownTask>();
  /** Waits in progress per task id, so that `cancel` can stop them. */
  const waits = new Map<string, Set<AbortController>>();
  const server = new McpServer(
    { name: "jimeng", version: VERSION },
    {
      instructions: `Image and video generation with Volcengine Jimeng (provider: ${providerName}). Every generate, compose, video, submit and batch call costs money (or credits). Files are saved under ${sandbox.out}.`,
    },
  );

  const remember = async (task: KnownTask) => {
    known.set(task.ref.taskId, task);
    await options.remember?.(task).catch((error: unknown) => {
      options.log(
        `could not record task ${task.ref.taskId}: ${error instanceof Error ? error.message : error}`,
      );
    });
  };

  /** Runs `work` with a signal that the client's cancellation and the cancel tool both abort. */
  const watched = async <T>(
    ctx: ServerContext,
    taskId: () => string | undefined,
    work: (signal: AbortSignal, track: (id: string) => void) => Promise<T>,
  ): Promise<T> => {
    const controller = new AbortController();
    const onAbort = () => controller.abort(ctx.mcpReq.signal.reason);
    if (ctx.mcpReq.signal.aborted) controller.abort();
    ctx.mcpReq.signal.addEventListener("abort", onAbort, { once: true });
    const track = (id: string) => {
      const set = waits.get(id) ?? new Set<AbortController>();
      set.add(controller);
      waits.set(id, set);
    };
    try {
      return await work(controller.signal, track);
    } finally {
      ctx.mcpReq.signal.removeEventListener("abort", onAbort);
      const id = taskId();
      if (id !== undefined) waits.get(id)?.delete(controller);
    }
  };

  /** Local references checked against the sandbox; throws ValidationError naming `images.N`. */
  const checkedImages = async (request: GenerationRequest): Promise<void> => {
    if (!request.images) return;
    const issues: ValidationIssue[] = [];
    const checked: string[] = [];
    for (const [index, image] of (request.images as string[]).entries()) {
      try {
        checked.push(await sandbox.input(image, `images.${index}`));
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        issues.push(...error.issues);
      }
    }
    if (issues.length) throw new ValidationError(issues);
    request.images = checked;
  };

  const savedFilesResult = async (summary: TaskSummary, files: readonly DownloadedFile[]) => {
    for (const file of files) {
      if (!(await sandbox.holds(file.file))) {
        throw new Error(`refusing to return ${file.file}: it is outside ${sandbox.out}`);
      }
    }
    const result = await filesResult(summary, files, options.inlineMaxBytes);
    for (const item of result.content) if (item.type === "text") item.text = scrub(item.text);
    return result;
  };

  const imagesNote = sandbox.describeInputs();

  // ---------------------------------------------------------------------------------- generate / compose / video
  for (const kind of TASK_KINDS) {
    const kindModels = modelsFor(models, kind);
    if (kindModels.length === 0) continue;
    const { title, what } = KIND_TEXT[kind];
    server.registerTool(
      kind,
      {
        title,
        description: `${what}. COSTS MONEY: each call submits one paid task (${timing(kindModels)}; the call waits, sending progress notifications, then saves the files under ${sandbox.out} and returns them as resource links${kind === "video" ? "" : ", small images also inline"}). Cancelling the call stops the wait, not the billing. Prefer submit + result if you cannot hold a call open that long.`,
        inputSchema: z.strictObject({
          ...requestShape(kindModels, { imagesRequired: kind === "compose", imagesNote }),
          ...outputShape(),
        }),
        annotations: {
          readOnlyHint: false,
          destructiveHint: false,
          idempotentHint: false,
          openWorldHint: true,
        },
      },
      async (args: Record<string, unknown>, ctx: ServerContext) => {
        let ref: TaskRef | undefined;
        try {
          const request = requestOf(kind, args);
          await checkedImages(request);
          const name = typeof args.name === "string" ? args.name : undefined;
          const timeoutSeconds = typeof args.timeoutSeconds === "number" ? args.timeoutSeconds : undefined;
          const onEvent = progressReporter(progressSender(ctx));
          const result = await watched(
            ctx,
            () => ref?.taskId,
            (signal, track) =>
              jimeng.generate(request, {
                signal,
                ...(timeoutSeconds !== undefined ? { timeout: timeoutSeconds * 1000 } : {}),
                download: { dir: sandbox.out, ...(name !== undefined ? { name } : {}) },
                onSubmitted: async (submitted) => {
                  ref = submitted;
                  track(submitted.taskId);
                  options.log(
                    `submitted task ${submitted.taskId} (${submitted.provider} · ${submitted.model})`,
                  );
                  await remember({ ref: submitted, prompt: request.prompt });
                },
                onEvent,
              }),
          );
          const files = result.files ?? [];
          return await savedFilesResult(summaryOf(result.ref, "succeeded", files), files);
        } catch (error) {
          if (error instanceof AbortError && ref) {
            options.log(`stopped waiting for task ${ref.taskId}; it keeps running upstream`);
          }
          return toolError(error, scrub, ref?.taskId);
        }
      },
    );
  }

  // ---------------------------------------------------------------------------------- submit
  server.registerTool(
    "submit",
    {
      title: "Submit a job without waiting",
      description: `Submits a generate, compose or video job and returns its task id at once. COSTS MONEY (one paid task). Images typically take ${timing(modelsFor(models, "generate"))}, videos ${timing(modelsFor(models, "video"))}; then call the result tool with the task id to get the files.`,
      inputSchema: z.strictObject({
        kind: z.enum(TASK_KINDS as [TaskKind, ...TaskKind[]]).describe("the kind of job"),
        ...requestShape(models, { imagesNote }),
      }),
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    async (args: Record<string, unknown>, ctx: ServerContext) => {
      try {
        const kind = args.kind as TaskKind;
        const request = requestOf(kind, args);
        await checkedImages(request);
        const ref = await jimeng.submit(request, { signal: ctx.mcpReq.signal });
        options.log(`submitted task ${ref.taskId} (${ref.provider} · ${ref.model})`);
        await remember({ ref, prompt: request.prompt });
        return textResult(
          scrub(
            JSON.stringify(
              {
                ...summaryOf(ref, "queued"),
                submittedAt: ref.submittedAt,
                next: `call the result tool with {"taskId": "${ref.taskId}", "wait": true}`,
              },
              null,
              2,
            ),
          ),
        );
      } catch (error) {
        return toolError(error, scrub);
      }
    },
  );

  // ---------------------------------------------------------------------------------- result
  const taskRef = async (taskId: string, model?: string, kind?: TaskKind): Promise<KnownTask> => {
    const found = known.get(taskId) ?? (await options.lookup?.(taskId));
    if (found && found.ref.provider === providerName && model === undefined) return found;
    if (model === undefined) {
      throw new ValidationError([
        {
          path: "model",
          message: `task ${taskId} was not submitted through this server or this machine's task list; give the model it was submitted with`,
        },
      ]);
    }
    const kinds = kind ? [kind] : TASK_KINDS;
    const capability = models.find(
      (item) =>
        (item.id === model || item.aliases.includes(model)) && kinds.some((k) => item.kinds.includes(k)),
    );
    if (!capability) {
      throw new ValidationError([
        { path: "model", message: `${model} is not a ${providerName} model${kind ? ` for ${kind}` : ""}` },
      ]);
    }
    return {
      ref: {
        provider: providerName,
        taskId,
        model: capability.id,
        kind: kind ?? (capability.kinds[0] as TaskKind),
        submittedAt: new Date().toISOString(),
      },
    };
  };

  server.registerTool(
    "result",
    {
      title: "Get a task's result",
      description:
        "Looks at a task submitted earlier (free: polling costs nothing). With wait: true it polls until the task ends, sending progress notifications. When the task succeeded its files are saved under the output folder and returned as resource links (small images also inline).",
      inputSchema: z.strictObject({
        taskId: z
          .string()
          .trim()
          .regex(/^\S+$/, "must be a task id")
          .describe("the id submit (or a timed-out call) returned"),
        wait: z.boolean().optional().describe("poll until the task ends (default false: one look)"),
        timeoutSeconds: outputShape().timeoutSeconds as z.ZodOptional<z.ZodNumber>,
        name: outputShape().name as z.ZodOptional<z.ZodString>,
        model: z
          .string()
          .min(1)
          .optional()
          .describe("the model the task was submitted with, for a task this server does not know"),
        kind: z
          .enum(TASK_KINDS as [TaskKind, ...TaskKind[]])
          .optional()
          .describe("the task's kind, with model"),
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (args, ctx: ServerContext) => {
      try {
        const task = await taskRef(args.taskId, args.model, args.kind);
        const { ref } = task;
        const onEvent = progressReporter(progressSender(ctx));
        const status: TaskStatus = await watched(
          ctx,
          () => ref.taskId,
          async (signal, track) => {
            track(ref.taskId);
            if (!args.wait) return jimeng.getTask(ref, { signal });
            const done = await jimeng.waitFor(ref, {
              signal,
              ...(args.timeoutSeconds !== undefined ? { timeout: args.timeoutSeconds * 1000 } : {}),
              onEvent,
            });
            return done.status;
          },
        );
        if (status.status !== "succeeded") {
          const summary = summaryOf(ref, status.status);
          if ("error" in status) summary.error = status.error;
          if (status.status === "queued" || status.status === "running") {
            summary.next = `call result again, or with "wait": true`;
          }
          return textResult(scrub(JSON.stringify(summary, null, 2)), "error" in status);
        }
        const { downloadOutputs } = await import("../media/download.js");
        const files = await downloadOutputs(status.outputs, {
          dir: sandbox.out,
          ...(args.name !== undefined ? { name: args.name } : {}),
          context: { prompt: task.prompt ?? "", model: ref.model, taskId: ref.taskId },
          signal: ctx.mcpReq.signal,
        });
        return await savedFilesResult(summaryOf(ref, "succeeded", files), files);
      } catch (error) {
        if (error instanceof AbortError) {
          options.log(`stopped waiting for task ${args.taskId}; it keeps running upstream`);
        }
        return toolError(error, scrub, args.taskId);
      }
    },
  );

  // ---------------------------------------------------------------------------------- cancel
  server.registerTool(
    "cancel",
    {
      title: "Cancel a task",
      description: `Stops this server's waits for a task and cancels it upstream where the provider can. The ${providerName} provider has no cancel call: a submitted task keeps running and is billed, and this tool says so as an error.`,
      inputSchema: z.strictObject({
        taskId: z.string().trim().regex(/^\S+$/, "must be a task id").describe("the task to cancel"),
      }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async (args) => {
      const controllers = waits.get(args.taskId);
      const stopped = controllers?.size ?? 0;
      for (const controller of controllers ?? []) controller.abort();
      waits.delete(args.taskId);
      return textResult(
        {
          taskId: args.taskId,
          cancelledUpstream: false,
          stoppedWaits: stopped,
          error: {
            code: "CANCEL_UNSUPPORTED",
            message: `the ${providerName} provider cannot cancel tasks: task ${args.taskId} keeps running upstream and is billed${stopped ? `; stopped ${stopped} wait(s) for it here` : ""}`,
          },
        },
        true,
      );
    },
  );

  // ---------------------------------------------------------------------------------- models
  server.registerTool(
    "models",
    {
      title: "List models",
      description:
        "The models of the configured provider with what each accepts (kinds, options, ratios, resolutions, durations, reference images, typical seconds). Free; sends nothing.",
      inputSchema: z.strictObject({
        kind: z
          .enum(TASK_KINDS as [TaskKind, ...TaskKind[]])
          .optional()
          .describe("only models for this kind of job"),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      const list = args.kind ? modelsFor(models, args.kind) : models;
      return textResult({ provider: providerName, models: list });
    },
  );

  if (options.batches) options.batches.register(server, { scrub, imagesNote });
  return server;
}
