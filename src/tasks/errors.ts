/**
 * The error a task's own end raises: the provider answered, and the answer was "this task failed" (or expired,
 * or was cancelled). It is an ApiError, so callers that handle provider failures handle it too, with the
 * provider's code and request id, plus the task id.
 */
import { ApiError, type ErrorJSON } from "../errors.js";
import type { TaskStatus } from "../providers/types.js";

export type FailedTaskStatus = Extract<TaskStatus, { status: "failed" | "expired" | "cancelled" }>;
export type SucceededTaskStatus = Extract<TaskStatus, { status: "succeeded" }>;

const HINTS: Record<FailedTaskStatus["status"], string> = {
  failed: "the task ended without output; check the prompt and inputs, then submit again",
  expired: "the server no longer keeps this task; submit it again",
  cancelled: "the task was cancelled on the server; submit it again if you still need it",
};

export class TaskFailedError extends ApiError {
  override name = "TaskFailedError";
  readonly taskId: string;
  /** How the task ended. */
  readonly state: FailedTaskStatus["status"];

  constructor(status: FailedTaskStatus) {
    const { ref, error } = status;
    const verb = status.status === "failed" ? "failed" : `was ${status.status}`;
    const requestId = error.requestId ?? status.requestId;
    // The code is added unless the message names it already; the generic hint only when the provider's own
    // explanation ("… — resubmit", "(fail_code 2038): rephrase …") does not already say what to do.
    const code = error.message.includes(String(error.code)) ? "" : ` [${error.code}]`;
    const advised = / — |\): /.test(error.message);
    super(`task ${ref.taskId} (${ref.model}) ${verb}: ${error.message}${code}`, {
      provider: ref.provider,
      // The status answer itself arrived as a successful HTTP response; the failure is the task's.
      httpStatus: 200,
      code: error.code,
      ...(requestId !== undefined ? { requestId } : {}),
      retryable: false,
      ...(advised ? {} : { hint: HINTS[status.status] }),
    });
    this.taskId = ref.taskId;
    this.state = status.status;
  }

  override toJSON(): ErrorJSON {
    return { ...super.toJSON(), taskId: this.taskId, lastStatus: this.state };
  }
}
