/**
 * Ctrl-C while a submit is in flight: the server may already have the task (and charge for it), so the
 * request is not cut at once. It gets a short grace period to answer; an id that arrives is recorded and the
 * wait stops right after. Before or after the submit, Ctrl-C stops at once as usual.
 */

/** How long an in-flight submit may still answer after Ctrl-C. */
export const SUBMIT_GRACE_MS = 5_000;

export interface SubmitGrace {
  /** Pass this to the submit and the wait instead of the command's own signal. */
  readonly signal: AbortSignal;
  /** Call once the task id is recorded: a pending Ctrl-C now takes effect. */
  submitted(): void;
  /** Ctrl-C came and no task id ever did: the submit may or may not have landed. */
  readonly unconfirmed: boolean;
  dispose(): void;
}

export function submitGrace(outer: AbortSignal, graceMs: number = SUBMIT_GRACE_MS): SubmitGrace {
  const controller = new AbortController();
  let submitted = false;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (timer !== undefined) clearTimeout(timer);
    controller.abort(outer.reason);
  };
  const onAbort = () => {
    if (submitted) stop();
    else timer = setTimeout(stop, graceMs);
  };
  // Interrupted before anything was sent: nothing to wait for.
  if (outer.aborted) controller.abort(outer.reason);
  else outer.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    submitted() {
      submitted = true;
      if (outer.aborted) stop();
    },
    get unconfirmed() {
      return outer.aborted && !submitted;
    },
    dispose() {
      if (timer !== undefined) clearTimeout(timer);
      outer.removeEventListener("abort", onAbort);
    },
  };
}
