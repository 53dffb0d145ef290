/** How a worker (in-process or `jimeng worker`) classifies a task's failure: shared by both queues. */
import { isThrottle } from "../batch/rate.js";
import { ApiError, JimengError, NetworkError } from "../errors.js";
import type { Store, StoredError, StoredTask } from "./store.js";

/** A submit failure that proves the provider did not accept the task: a throttle, or a request never sent. */
export function notAccepted(error: unknown): boolean {
  return isThrottle(error) || (error instanceof NetworkError && error.notSent);
}

export function storedError(error: unknown): StoredError {
  // TaskFailedError (the task's own end) is an ApiError too.
  if (error instanceof ApiError) {
    return {
      code: error.code,
      message: error.message,
      ...(error.requestId ? { requestId: error.requestId } : {}),
    };
  }
  if (error instanceof JimengError) return { code: error.code, message: error.message };
  return { code: "INTERNAL", message: describe(error) };
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Marks a task failed if it is still in one of `from`, giving its credits back when its origin is in
 * `refundOn` (seed 003: image-to-image). One transaction; false when the task had moved on.
 */
export function failTask(
  store: Store,
  id: string,
  from: readonly StoredTask["status"][],
  error: StoredError,
  refundOn?: ReadonlySet<StoredTask["origin"]>,
): boolean {
  const task = store.getTask(id);
  if (!task) return false;
  const refund = task.credits > 0 && (refundOn?.has(task.origin) ?? false);
  return store.transaction(() => {
    const failed = store.updateTask(id, from, {
      status: "failed",
      error,
      finishedAt: Date.now(),
      ...(refund ? { credits: 0 } : {}),
    });
    if (failed && refund) store.refund(task.userId, task.credits);
    return failed;
  });
}
