/**
 * The free tools: `result` (a task's status by id; with `wait`, until it ends; a succeeded task's files saved
 * and returned), `cancel` (stops this server's waits; says plainly that the provider cannot cancel upstream)
 * and `models` (the capability records).
 */
import type { McpServer, ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import { AbortError, ValidationError } from "../errors.js";
import type { TaskKind, TaskStatus } from "../providers/types.js";
import { summaryOf } from "./results.js";
import { modelsFor, outputShape, TASK_KINDS } from "./schemas.js";
import type { KnownTask, ToolKit } from "./toolkit.js";

const taskId = z.string().trim().regex(/^\S+$/, "must be a task id");
const kindEnum = () => z.enum(TASK_KINDS as [TaskKind, ...TaskKind[]]);

/** The task to ask about: one this server or the task list knows, else built from `model` (and `kind`). */
async function taskFor(kit: ToolKit, id: string, model?: string, kind?: TaskKind): Promise<KnownTask> {
  const found = await kit.find(id);
  if (found && found.ref.provider !== kit.providerName) {
    throw new ValidationError([
      {
        path: "taskId",
        message: `task ${id} belongs to the ${found.ref.provider} provider; this server runs ${kit.providerName} (start it with --provider ${found.ref.provider})`,
      },
    ]);
  }
  if (found && model === undefined) return found;
  if (model === undefined) {
    throw new ValidationError([
      {
        path: "model",
        message: `task ${id} was not submitted through this server or this machine's task list; give the model it was submitted with`,
      },
    ]);
  }
  const kinds = kind ? [kind] : TASK_KINDS;
  const capability = kit.models.find(
    (item) =>
      (item.id === model || item.aliases.includes(model)) && kinds.some((k) => item.kinds.includes(k)),
  );
  if (!capability) {
    throw new ValidationError([
      { path: "model", message: `${model} is not a ${kit.providerName} model${kind ? ` for ${kind}` : ""}` },
    ]);
  }
  return {
    ref: {
      provider: kit.jimeng.provider.name,
      taskId: id,
      model: capability.id,
      kind: kind ?? (capability.kinds[0] as TaskKind),
      submittedAt: new Date().toISOString(),
    },
  };
}

function registerResult(server: McpServer, kit: ToolKit): void {
  const { jimeng, sandbox } = kit;
  const output = outputShape();
  server.registerTool(
    "result",
    {
      title: "Get a task's result",
      description:
        "Looks at a task submitted earlier (free: polling costs nothing). With wait: true it polls until the task ends, sending progress notifications. When the task succeeded its files are saved under the output folder and returned as resource links (small images also inline).",
      inputSchema: z.strictObject({
        taskId: taskId.describe("the id submit (or a timed-out call) returned"),
        wait: z.boolean().optional().describe("poll until the task ends (default false: one look)"),
        timeoutSeconds: output.timeoutSeconds as z.ZodOptional<z.ZodNumber>,
        name: output.name as z.ZodOptional<z.ZodString>,
        model: z
          .string()
          .min(1)
          .optional()
          .describe("the model the task was submitted with, for a task this server does not know"),
        kind: kindEnum().optional().describe("the task's kind, with model"),
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (args, ctx: ServerContext) => {
      const progress = kit.progress(ctx);
      try {
        const task = await taskFor(kit, args.taskId, args.model, args.kind);
        const { ref } = task;
        const status: TaskStatus = await kit.watch(ctx, async (signal, track) => {
          track(ref.taskId);
          if (!args.wait) return jimeng.getTask(ref, { signal });
          const done = await jimeng.waitFor(ref, {
            signal,
            ...(args.timeoutSeconds !== undefined ? { timeout: args.timeoutSeconds * 1000 } : {}),
            onEvent: progress.onEvent,
          });
          return done.status;
        });
        await progress.flush();
        if (status.status !== "succeeded") {
          const summary = summaryOf(ref, status.status);
          if ("error" in status) summary.error = status.error;
          if (status.status === "queued" || status.status === "running") {
            summary.next = `call result again, or with "wait": true`;
          }
          return kit.json(summary, "error" in status);
        }
        const { downloadOutputs } = await import("../media/download.js");
        const files = await downloadOutputs(status.outputs, {
          dir: sandbox.out,
          ...(args.name !== undefined ? { name: args.name } : {}),
          context: { prompt: task.prompt ?? "", model: ref.model, taskId: ref.taskId },
          signal: ctx.mcpReq.signal,
        });
        return await kit.files(summaryOf(ref, "succeeded", files), files);
      } catch (error) {
        if (error instanceof AbortError) {
          kit.log(`stopped waiting for task ${args.taskId}; it keeps running upstream`);
        }
        await progress.flush();
        return kit.error(error, args.taskId);
      }
    },
  );
}

function registerCancel(server: McpServer, kit: ToolKit): void {
  server.registerTool(
    "cancel",
    {
      title: "Cancel a task",
      description: `Stops this server's waits for a task and cancels it upstream where the provider can. The ${kit.providerName} provider has no cancel call: a submitted task keeps running and is billed, and this tool says so as an error.`,
      inputSchema: z.strictObject({ taskId: taskId.describe("the task to cancel") }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async (args) => {
      const stopped = kit.stopWaits(args.taskId);
      return kit.json(
        {
          taskId: args.taskId,
          cancelledUpstream: false,
          stoppedWaits: stopped,
          error: {
            code: "CANCEL_UNSUPPORTED",
            message: `the ${kit.providerName} provider cannot cancel tasks: task ${args.taskId} keeps running upstream and is billed${stopped ? `; stopped ${stopped} wait(s) for it here` : ""}`,
          },
        },
        true,
      );
    },
  );
}

function registerModels(server: McpServer, kit: ToolKit): void {
  server.registerTool(
    "models",
    {
      title: "List models",
      description:
        "The models of the configured provider with what each accepts (kinds, options, ratios, resolutions, durations, reference images, typical seconds). Free; sends nothing.",
      inputSchema: z.strictObject({
        kind: kindEnum().optional().describe("only models for this kind of job"),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      const models = args.kind ? modelsFor(kit.models, args.kind) : kit.models;
      return kit.json({ provider: kit.providerName, models });
    },
  );
}

export function registerTaskTools(server: McpServer, kit: ToolKit): void {
  registerResult(server, kit);
  registerCancel(server, kit);
  registerModels(server, kit);
}
