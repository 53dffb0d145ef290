/**
 * The tools that spend money: `generate`, `compose` and `video` (submit, wait with progress, save, return the
 * files) and `submit` (return the task id at once). Their schemas come from the capability records of the
 * models that serve each kind.
 */
import type { McpServer, ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import { AbortError } from "../errors.js";
import type { GenerationRequest } from "../providers/request.js";
import type { ModelCapability, TaskKind, TaskRef } from "../providers/types.js";
import { summaryOf } from "./results.js";
import { modelsFor, outputShape, requestShape, TASK_KINDS } from "./schemas.js";
import type { ToolKit } from "./toolkit.js";

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

const PAID = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true };

/** Pure: how long the models' tasks typically take, for descriptions. */
export function timing(models: readonly ModelCapability[]): string {
  const typical = models.map((model) => model.expectedSeconds.typical);
  if (typical.length === 0) return "";
  const low = Math.min(...typical);
  const high = Math.max(...typical);
  return low === high ? `about ${low} s` : `about ${low}–${high} s depending on the model`;
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

function registerWaiting(server: McpServer, kit: ToolKit, kind: TaskKind): void {
  const models = modelsFor(kit.models, kind);
  if (models.length === 0) return;
  const { title, what } = KIND_TEXT[kind];
  const { sandbox, jimeng } = kit;
  server.registerTool(
    kind,
    {
      title,
      description: `${what}. COSTS MONEY: each call submits one paid task (${timing(models)}; the call waits, sending progress notifications, then saves the files under ${sandbox.out} and returns them as resource links${kind === "video" ? "" : ", small images also inline"}). Cancelling the call stops the wait, not the billing. Prefer submit + result if you cannot hold a call open that long.`,
      inputSchema: z.strictObject({
        ...requestShape(models, {
          imagesRequired: kind === "compose",
          imagesNote: sandbox.describeInputs(),
        }),
        ...outputShape(),
      }),
      annotations: PAID,
    },
    async (args: Record<string, unknown>, ctx: ServerContext) => {
      let ref: TaskRef | undefined;
      const progress = kit.progress(ctx);
      try {
        const request = requestOf(kind, args);
        await kit.checkImages(request);
        const name = typeof args.name === "string" ? args.name : undefined;
        const timeoutSeconds = typeof args.timeoutSeconds === "number" ? args.timeoutSeconds : undefined;
        const result = await kit.watch(ctx, (signal, track) =>
          jimeng.generate(request, {
            signal,
            ...(timeoutSeconds !== undefined ? { timeout: timeoutSeconds * 1000 } : {}),
            download: { dir: sandbox.out, ...(name !== undefined ? { name } : {}) },
            onSubmitted: async (submitted) => {
              ref = submitted;
              track(submitted.taskId);
              await kit.remember({ ref: submitted, prompt: request.prompt });
            },
            onEvent: progress.onEvent,
          }),
        );
        await progress.flush();
        const files = result.files ?? [];
        return await kit.files(summaryOf(result.ref, "succeeded", files), files);
      } catch (error) {
        if (error instanceof AbortError && ref) {
          kit.log(`stopped waiting for task ${ref.taskId}; it keeps running upstream`);
        }
        await progress.flush();
        return kit.error(error, ref?.taskId);
      }
    },
  );
}

function registerSubmit(server: McpServer, kit: ToolKit): void {
  server.registerTool(
    "submit",
    {
      title: "Submit a job without waiting",
      description: `Submits a generate, compose or video job and returns its task id at once. COSTS MONEY (one paid task). Images typically take ${timing(modelsFor(kit.models, "generate"))}, videos ${timing(modelsFor(kit.models, "video"))}; then call the result tool with the task id to get the files.`,
      inputSchema: z.strictObject({
        kind: z.enum(TASK_KINDS as [TaskKind, ...TaskKind[]]).describe("the kind of job"),
        ...requestShape(kit.models, { imagesNote: kit.sandbox.describeInputs() }),
      }),
      annotations: PAID,
    },
    async (args: Record<string, unknown>, ctx: ServerContext) => {
      try {
        const request = requestOf(args.kind as TaskKind, args);
        await kit.checkImages(request);
        const ref = await kit.jimeng.submit(request, { signal: ctx.mcpReq.signal });
        await kit.remember({ ref, prompt: request.prompt });
        return kit.json({
          ...summaryOf(ref, "queued"),
          submittedAt: ref.submittedAt,
          next: `call the result tool with {"taskId": "${ref.taskId}", "wait": true}`,
        });
      } catch (error) {
        return kit.error(error);
      }
    },
  );
}

export function registerGenerationTools(server: McpServer, kit: ToolKit): void {
  for (const kind of TASK_KINDS) registerWaiting(server, kit, kind);
  registerSubmit(server, kit);
}
