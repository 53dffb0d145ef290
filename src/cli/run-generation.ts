/**
 * `generate`, `compose` and `video`: check, submit, wait, download; one document or the saved paths.
 */
import { AbortError } from "../errors.js";
import type { TaskKind, TaskRef } from "../providers/types.js";
import type { CommandCall, CommandContext } from "./command-types.js";
import { emulatorRequested } from "./config.js";
import { EXIT } from "./exit-codes.js";
import { followUpOf } from "./follow-up.js";
import { withFlagNames } from "./generation-options.js";
import { checkedRequest, checkName, openClient, remember, rememberOutcome } from "./open-client.js";
import { checkOutputFolder } from "./output-folder.js";
import { readPrompt } from "./stdin.js";
import { SUBMIT_GRACE_MS, submitGrace } from "./submit-grace.js";
import { outputEntries, printOutputs, type TaskDocument } from "./task-document.js";
import { reportFailure } from "./task-ending.js";
import { openTaskIndex, type SubmittingEntry, submittingEntry } from "./task-index.js";
import { TaskProgress } from "./task-progress.js";

/** generate / compose / video: submit, wait, download; one document or the saved paths. */
export async function runGeneration(
  kind: TaskKind,
  context: CommandContext,
  call: CommandCall,
): Promise<number> {
  const { output } = context;
  const options = call.options;
  const prompt = await readPrompt(context.io, call.args[0], options.promptFile);
  const name = checkName(options.name);
  const timeout = typeof options.timeout === "number" ? options.timeout : undefined;
  const download = options.download !== false;

  const client = await openClient(context, options);
  const progress = new TaskProgress(output);
  let ref: TaskRef | undefined;
  const grace = submitGrace(context.signal);
  try {
    const { jimeng, prepared } = client;
    const { request, model } = await checkedRequest(jimeng, kind, prompt, options, output);
    const dir = prepared.settings.outDir.value;
    if (download) await checkOutputFolder(prepared.settings.outDir);
    progress.submitting();
    const sentAt = new Date().toISOString();
    try {
      const result = await jimeng.generate(request, {
        signal: grace.signal,
        ...(timeout !== undefined ? { timeout } : {}),
        download: download ? { dir, ...(name !== undefined ? { name } : {}) } : false,
        onSubmitted: async (submitted) => {
          ref = submitted;
          progress.submitted(submitted);
          await remember(context, submitted, prompt);
          grace.submitted();
        },
        onEvent: progress.onEvent,
      });
      const outputs = outputEntries(result.status.outputs, result.files);
      const document: TaskDocument = {
        taskId: result.ref.taskId,
        provider: result.ref.provider,
        model: result.ref.model,
        status: "succeeded",
        outputs,
        timings: { submittedAt: result.submittedAt, finishedAt: result.finishedAt, polls: result.polls },
      };
      await rememberOutcome(context, document);
      const count = outputs.length;
      progress.succeed(
        result.files
          ? `saved ${count} file${count === 1 ? "" : "s"} to ${dir}`
          : `done: ${count} output${count === 1 ? "" : "s"} (not downloaded)`,
      );
      if (output.mode.json) output.json(document);
      else printOutputs(output, outputs);
      return EXIT.ok;
    } catch (error) {
      if (!ref) {
        progress.stop();
        if (grace.unconfirmed && error instanceof AbortError) {
          const entry = submittingEntry(
            { provider: jimeng.provider.name, model: model.id, kind, at: sentAt },
            prompt,
          );
          return reportUnconfirmedSubmit(context, entry);
        }
        throw withFlagNames(error);
      }
      return await reportFailure(
        context,
        { ref, progress, submittedAt: ref.submittedAt, out: dir, via: followUpOf(prepared.settings) },
        error,
      );
    }
  } finally {
    grace.dispose();
    progress.stop();
    await client.close();
  }
}

/** Ctrl-C and no answer to the submit within the grace period: record it and say it may have been charged. */
async function reportUnconfirmedSubmit(context: CommandContext, entry: SubmittingEntry): Promise<number> {
  const index = openTaskIndex(context.env, emulatorRequested(context.env, context.globals.emulator), (text) =>
    context.output.redact(text),
  );
  let where = `recorded as "submitting" in ${index.path}`;
  try {
    await index.record(entry);
  } catch {
    where = `it could not be recorded in ${index.path}`;
  }
  context.output.stderrLine(
    `${context.output.errStyle.yellow("interrupted:")} the submit was sent but not answered within ${SUBMIT_GRACE_MS / 1000} s; the ${entry.provider} provider may have accepted the task and charged for it (${where}). Check its console before submitting again.`,
  );
  return EXIT.interrupted;
}
