/**
 * A task that was submitted but did not end well here: its document, what happened and the command that
 * picks it up again, and the exit code.
 */
import { AbortError, JimengError, TimeoutError, WaitTimeoutError } from "../errors.js";
import type { TaskRef, TaskState } from "../providers/types.js";
import { TaskFailedError } from "../tasks/errors.js";
import type { CommandContext } from "./command-types.js";
import { EXIT, exitCodeFor } from "./exit-codes.js";
import { type FollowUpOptions, followUpNeeds, resultCommand } from "./follow-up.js";
import { rememberOutcome } from "./open-client.js";
import { errorMember, outputEntries, type TaskDocument } from "./task-document.js";
import type { TaskProgress } from "./task-progress.js";
import { safeText } from "./terminal-text.js";

export interface Ending {
  ref: TaskRef;
  progress: TaskProgress;
  /** The output folder, for the command that picks the task up again. */
  out: string;
  /** How the follow-up commands reach the task again (`--emulator`, `--server <url>`). */
  via: FollowUpOptions;
  submittedAt: string;
}

/**
 * A task that was submitted but did not end well here: prints the document (status as last seen, the
 * error), says what happened and what to do next, and returns the exit code (1 failed, 3 auth, 4 timeout,
 * 130 interrupted).
 */
export async function reportFailure(
  context: CommandContext,
  ending: Ending,
  error: unknown,
): Promise<number> {
  const { output } = context;
  const { ref, progress } = ending;
  const failedStatus = error instanceof TaskFailedError ? progress.last : undefined;
  const status: TaskState =
    error instanceof TaskFailedError ? error.state : (progress.last?.status ?? "queued");
  const ended = status === "failed" || status === "expired" || status === "cancelled";
  const document: TaskDocument = {
    taskId: ref.taskId,
    provider: ref.provider,
    model: ref.model,
    status,
    outputs: outputEntries(progress.last?.outputs ?? []),
    error: errorMember(error, failedStatus?.status === status ? failedStatus : undefined),
    timings: {
      submittedAt: ending.submittedAt,
      finishedAt: ended ? new Date().toISOString() : null,
      polls: progress.polls,
    },
  };
  await rememberOutcome(context, document);
  const resume = resultCommand(ref.taskId, { out: ending.out, ...ending.via });
  if (error instanceof AbortError) {
    progress.stop();
    if (output.mode.json) output.json(document);
    output.stderrLine(
      `${output.errStyle.yellow("interrupted:")} task ${safeText(ref.taskId, 200)} was submitted (it may be charged) and may still run; pick it up with \`${resume}\`${followUpNeeds(ending.via)}`,
    );
    return EXIT.interrupted;
  }
  progress.fail(
    error instanceof TimeoutError
      ? status === "succeeded"
        ? "the downloads did not finish before the timeout"
        : `still ${status} after the timeout`
      : `task ${safeText(ref.taskId, 200)} ${status === "succeeded" ? "succeeded, but saving it failed" : status}`,
  );
  if (output.mode.json) output.json(document);
  let shown = error;
  if (status === "succeeded" && error instanceof JimengError && !(error instanceof TimeoutError)) {
    // Paid for and done, but not saved: the outputs stay downloadable for a while.
    const recover = resultCommand(ref.taskId, { out: ending.out, ...ending.via, wait: false });
    shown = new JimengError(error.message, {
      code: error.code,
      hint: `${error.hint ? `${error.hint}; then ` : ""}save the outputs with \`${recover}\`${followUpNeeds(ending.via)}`,
      cause: error,
    });
  } else if (error instanceof TimeoutError) {
    shown = new WaitTimeoutError(error.message, {
      taskId: ref.taskId,
      ...(error.lastStatus !== undefined ? { lastStatus: error.lastStatus } : {}),
      hint: `the task keeps running on the server; pick it up with \`${resume}\`${followUpNeeds(ending.via)}`,
    });
  }
  output.error(shown);
  return exitCodeFor(error);
}
