/**
 * `jimeng result <task-id>`: one look at a task (`--wait`: poll until it ends; `--download`: save its
 * outputs). The task's provider, model and kind come from the local task list (`tasks.jsonl`, written by
 * every submission), so the id alone is enough; `--provider`, `--model` and `--kind` override them, or fill
 * them in for a task this machine did not submit.
 */
import { ValidationError, WaitTimeoutError } from "../../errors.js";
import type { DownloadedFile } from "../../media/download.js";
import type { ModelCapability, Provider, TaskKind, TaskRef, TaskStatus } from "../../providers/types.js";
import { ENV_NAMES } from "../../setting-names.js";
import { capOutputs } from "../../tasks/output-cap.js";
import type { CommandCall, CommandContext } from "../command-types.js";
import { emulatorRequested, serverTarget } from "../config.js";
import { EXIT } from "../exit-codes.js";
import { followUpOf } from "../follow-up.js";
import { withFlagNames } from "../generation-options.js";
import { checkName, openClient, rememberOutcome } from "../open-client.js";
import { failureText } from "../output.js";
import { checkOutputFolder } from "../output-folder.js";
import { shellQuote } from "../shell-quote.js";
import { errorMember, outputEntries, printOutputs, type TaskDocument } from "../task-document.js";
import { reportFailure } from "../task-ending.js";
import { openTaskIndex, type TaskIndexEntry } from "../task-index.js";
import { TaskProgress } from "../task-progress.js";
import { safeText } from "../terminal-text.js";

const KINDS: readonly TaskKind[] = ["generate", "compose", "video"];

/** The model named by `--model`, with the kind it serves (`--kind`, else the task list's, else its first). */
function modelFor(provider: Provider, name: string, kind: TaskKind | undefined): ModelCapability {
  if (kind) {
    try {
      return provider.resolveModel(name, kind);
    } catch (error) {
      throw withFlagNames(error);
    }
  }
  let firstError: unknown;
  for (const candidate of KINDS) {
    try {
      return provider.resolveModel(name, candidate);
    } catch (error) {
      firstError ??= error;
    }
  }
  throw withFlagNames(firstError);
}

/** Pure: what to ask the provider about, from the task list's entry and the flags. */
export function taskRefFor(
  taskId: string,
  provider: Provider,
  entry: TaskIndexEntry | undefined,
  flags: { model?: string; kind?: TaskKind },
  indexPath: string,
): TaskRef {
  const known = entry?.provider === provider.name ? entry : undefined;
  let model = known?.model;
  let kind = flags.kind ?? known?.kind;
  if (flags.model !== undefined) {
    const capability = modelFor(provider, flags.model, kind);
    model = capability.id;
    kind ??= capability.kinds[0];
  }
  if (model === undefined && provider.name === "session" && kind !== undefined) {
    model = provider.resolveModel(undefined, kind).id;
  }
  if (model === undefined || kind === undefined) {
    const needs = provider.name === "visual" ? "--model <req_key>" : "--model <name> (or --kind)";
    throw new ValidationError(
      [
        {
          path: "--model",
          message: `task ${taskId} is not in this machine's task list (${indexPath}); add ${needs} with the model it was submitted with`,
        },
      ],
      {
        hint: `the ${provider.name} provider was used; if the task belongs to another one, add --provider ${provider.name === "visual" ? "session" : "visual"} (or ark)`,
      },
    );
  }
  const ref: TaskRef = {
    provider: provider.name,
    taskId,
    model,
    kind,
    submittedAt: known?.submittedAt ?? new Date().toISOString(),
  };
  if (known?.account !== undefined) ref.account = known.account;
  if (known?.count !== undefined) ref.count = known.count;
  return ref;
}

function isEnded(status: TaskStatus["status"]): boolean {
  return status !== "queued" && status !== "running";
}

export async function run(context: CommandContext, call: CommandCall): Promise<number> {
  const { output } = context;
  const { options } = call;
  // --timeout bounds the whole command, downloads included.
  const startedAt = Date.now();
  const taskId = String(call.args[0] ?? "").trim();
  if (!/^\S+$/.test(taskId)) throw new ValidationError([{ path: "task-id", message: "must not be empty" }]);
  const name = checkName(options.name);
  const timeout = typeof options.timeout === "number" ? options.timeout : undefined;
  const wait = options.wait === true;
  const download = options.download === true;
  const kind = typeof options.kind === "string" ? (options.kind as TaskKind) : undefined;

  const index = openTaskIndex(context.env, emulatorRequested(context.env, context.globals.emulator));
  const entry = await index.find(taskId, context.globals.provider);
  if (entry?.server !== undefined && !serverTarget(context.globals, context.env)) {
    // Its id means nothing to the provider itself: ask for the service rather than poll the wrong API.
    throw new ValidationError([
      {
        path: "--server",
        message: `task ${taskId} was created through the shared service at ${entry.server}: add --server ${shellQuote(entry.server)} (with ${ENV_NAMES.serverApiKey} set, or --api-key)`,
      },
    ]);
  }
  // The task list names the provider; an explicit --provider wins.
  const globals =
    entry && !context.globals.provider ? { ...context.globals, provider: entry.provider } : context.globals;
  const client = await openClient({ ...context, globals }, options);
  const progress = new TaskProgress(output);
  try {
    const { jimeng, prepared } = client;
    const ref = taskRefFor(
      taskId,
      jimeng.provider,
      entry,
      {
        ...(typeof options.model === "string" ? { model: options.model } : {}),
        ...(kind ? { kind } : {}),
      },
      index.path,
    );
    const dir = prepared.settings.outDir.value;
    progress.resume(ref);
    const ending = {
      ref,
      progress,
      submittedAt: ref.submittedAt,
      out: dir,
      via: followUpOf(prepared.settings),
    };
    if (download) await checkOutputFolder(prepared.settings.outDir);

    let status: TaskStatus;
    let finishedAt: string | null = null;
    try {
      if (wait) {
        const result = await jimeng.waitFor(ref, {
          signal: context.signal,
          ...(timeout !== undefined ? { timeout } : {}),
          onEvent: progress.onEvent,
        });
        status = result.status;
        finishedAt = result.finishedAt;
      } else {
        status = await jimeng.getTask(ref, { signal: context.signal });
        progress.polls = 1;
        progress.last = status;
        if (isEnded(status.status)) finishedAt = new Date().toISOString();
      }
    } catch (error) {
      return await reportFailure(context, ending, error);
    }

    if (status.status !== "succeeded") {
      if (isEnded(status.status)) {
        progress.fail(`task ${safeText(taskId, 200)} ${status.status}`);
        const failure = errorMember(undefined, status);
        const document: TaskDocument = {
          taskId,
          provider: ref.provider,
          model: ref.model,
          status: status.status,
          outputs: outputEntries(status.outputs),
          error: failure,
          timings: { submittedAt: ref.submittedAt, finishedAt, polls: progress.polls },
        };
        await rememberOutcome(context, document);
        if (output.mode.json) output.json(document);
        output.stderrLine(
          `${output.errStyle.red("error:")} ${failureText(failure)}${failure.requestId ? ` (request id ${safeText(failure.requestId, 200)})` : ""}`,
        );
        output.stderrLine(`  ${output.errStyle.cyan("hint:")} submit the job again`);
        return EXIT.failed;
      }
      progress.succeed(`task ${safeText(taskId, 200)} is ${status.status}; add --wait to wait for it`);
      const document: TaskDocument = {
        taskId,
        provider: ref.provider,
        model: ref.model,
        status: status.status,
        outputs: [],
        timings: { submittedAt: ref.submittedAt, finishedAt: null, polls: progress.polls },
      };
      output.result(document, () => status.status);
      return EXIT.ok;
    }

    const capped = capOutputs(status, ref);
    if (capped.ignored > 0) {
      progress.onEvent({ type: "ignored", ref, kept: capped.status.outputs.length, ignored: capped.ignored });
      status = capped.status;
    }
    let files: DownloadedFile[] = [];
    if (download) {
      progress.expectDownloads(status.outputs.length);
      const deadline =
        timeout !== undefined && Number.isFinite(timeout)
          ? AbortSignal.timeout(Math.max(1, timeout - (Date.now() - startedAt)))
          : undefined;
      try {
        const { downloadOutputs } = await import("../../media/download.js");
        files = await downloadOutputs(status.outputs, {
          dir,
          ...(name !== undefined ? { name } : {}),
          context: { prompt: entry?.prompt ?? "", model: ref.model, taskId },
          signal: deadline ? AbortSignal.any([context.signal, deadline]) : context.signal,
          onProgress: (event) => progress.onEvent({ type: "download", ref, ...event }),
        });
      } catch (error) {
        progress.last = status;
        const timedOut = deadline?.aborted === true && !context.signal.aborted;
        return await reportFailure(
          context,
          ending,
          timedOut
            ? new WaitTimeoutError(`the downloads of task ${taskId} did not finish within the timeout`, {
                taskId,
                lastStatus: "succeeded",
                cause: error,
              })
            : error,
        );
      }
    }
    const outputs = outputEntries(status.outputs, files);
    const count = outputs.length;
    progress.succeed(
      download
        ? `saved ${count} file${count === 1 ? "" : "s"} to ${dir}`
        : `task ${safeText(taskId, 200)} succeeded: ${count} output${count === 1 ? "" : "s"}`,
    );
    const document: TaskDocument = {
      taskId,
      provider: ref.provider,
      model: ref.model,
      status: "succeeded",
      outputs,
      timings: { submittedAt: ref.submittedAt, finishedAt, polls: progress.polls },
    };
    await rememberOutcome(context, document);
    if (output.mode.json) output.json(document);
    else printOutputs(output, outputs);
    return EXIT.ok;
  } finally {
    progress.stop();
    await client.close();
  }
}
