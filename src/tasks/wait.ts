/**
 * The wait loop: poll a task with the schedule from backoff.ts until it ends, the deadline passes or the
 * caller aborts. Time and sleeping are injected, so tests and the benchmark run in virtual time.
 *
 * - succeeded → resolves; failed / expired / cancelled → TaskFailedError;
 * - deadline → WaitTimeoutError with the task id and the last status seen (the caller can resume with the id);
 * - abort → AbortError with the task id. Neither ever resolves with partial output;
 * - a transient poll failure (network, throttling, a retryable server error, a single poll timing out) does
 *   not end the wait: it backs off and polls again until the deadline. Anything else ends it.
 */
import {
  AbortError,
  ApiError,
  type JimengError,
  NetworkError,
  RateLimitError,
  RequestTimeoutError,
  WaitTimeoutError,
} from "../errors.js";
import { retryDelay } from "../http/retry.js";
import { sleep as realSleep } from "../http/sleep.js";
import type { ModelCapability, Provider, TaskRef, TaskStatus } from "../providers/types.js";
import { nextPollDelay, type PollSchedule, pollSchedule } from "./backoff.js";
import { type SucceededTaskStatus, TaskFailedError } from "./errors.js";
import type { OnTaskEvent } from "./events.js";

/** Milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

/** Waits `ms`; rejects with AbortError when `signal` fires, and removes its listener either way. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const systemClock: Clock = { now: () => Date.now() };
export const systemSleep: Sleep = realSleep;

/** Default deadlines for a wait when the caller gives none. */
export const DEFAULT_IMAGE_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_VIDEO_TIMEOUT_MS = 30 * 60_000;

/** Priors used when the task's model is not in the provider's registry (e.g. a task made by a newer version). */
const FALLBACK_PRIORS = {
  image: { output: "image", expectedSeconds: { min: 5, typical: 30 } },
  video: { output: "video", expectedSeconds: { min: 30, typical: 120 } },
} as const;

export interface WaitOptions {
  signal?: AbortSignal;
  /** Deadline for the wait in ms (Infinity: none). Default 10 min for images, 30 min for video. */
  timeout?: number;
  /** Every status seen, in order. */
  onUpdate?: (status: TaskStatus) => void;
  onEvent?: OnTaskEvent;
}

export interface WaitContext {
  clock: Clock;
  sleep: Sleep;
  random: () => number;
  /** The task's model; looked up with `provider.resolveModel` when absent. */
  model?: ModelCapability;
  /** Overrides the model's schedule (benchmarks, tests). */
  schedule?: PollSchedule;
}

/** A task that ended well: its final status (with outputs) and how the wait went. */
export interface TaskResult {
  ref: TaskRef;
  status: SucceededTaskStatus;
  /** Polls made by this wait, failed ones included. */
  polls: number;
  /** ISO 8601, from the ref. */
  submittedAt: string;
  /** ISO 8601: when this client saw the task succeed. */
  finishedAt: string;
}

function priorsFor(
  provider: Provider,
  ref: TaskRef,
  model: ModelCapability | undefined,
): Pick<ModelCapability, "output" | "expectedSeconds"> {
  if (model) return model;
  try {
    return provider.resolveModel(ref.model, ref.kind);
  } catch {
    return ref.kind === "video" ? FALLBACK_PRIORS.video : FALLBACK_PRIORS.image;
  }
}

/** Poll failures that say nothing about the task and may well pass: worth another poll later. */
export function isTransientPollFailure(error: unknown): error is JimengError {
  if (error instanceof NetworkError || error instanceof RateLimitError) return true;
  // A single poll that hit the transport's deadline (not our own deadline: that is a WaitTimeoutError).
  if (error instanceof RequestTimeoutError) return true;
  return error instanceof ApiError && error.retryable;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

export async function waitForTask(
  provider: Provider,
  ref: TaskRef,
  options: WaitOptions,
  context: WaitContext,
): Promise<TaskResult> {
  const { clock, sleep, random, signal } = { ...context, signal: options.signal };
  const aborted = (cause?: unknown) =>
    new AbortError(`stopped waiting for task ${ref.taskId}`, {
      taskId: ref.taskId,
      cause: cause ?? signal?.reason,
    });
  if (signal?.aborted) throw aborted();

  const priors = priorsFor(provider, ref, context.model);
  const schedule = context.schedule ?? pollSchedule(priors);
  const timeout =
    options.timeout ?? (priors.output === "video" ? DEFAULT_VIDEO_TIMEOUT_MS : DEFAULT_IMAGE_TIMEOUT_MS);
  const started = clock.now();
  const deadline = started + Math.max(0, timeout);
  const submitted = Date.parse(ref.submittedAt);
  // Elapsed time counts from submission (a resumed wait starts with long intervals); never from the future.
  const origin = Number.isFinite(submitted) && submitted <= started ? submitted : started;

  let polls = 0;
  let failures = 0;
  let last: TaskStatus | undefined;
  let lastFailure: unknown;
  let delay = nextPollDelay(schedule, { elapsedMs: started - origin, polls: 0 }, random);

  const timedOut = () =>
    new WaitTimeoutError(
      `task ${ref.taskId} did not finish within ${seconds(timeout)}` +
        (last ? ` (last status: ${last.status})` : " (no status received)"),
      {
        taskId: ref.taskId,
        ...(last ? { lastStatus: last.status } : {}),
        hint: `the task may still finish: wait again with its id (jimeng result ${ref.taskId} --wait, or waitFor(ref))`,
        ...(last === undefined && lastFailure !== undefined ? { cause: lastFailure } : {}),
      },
    );

  for (;;) {
    const pause = Math.min(delay, Math.max(0, deadline - clock.now()));
    if (pause > 0) {
      try {
        await sleep(pause, signal);
      } catch (error) {
        if (signal?.aborted) throw aborted(error);
        throw error;
      }
    }
    if (signal?.aborted) throw aborted();

    polls++;
    let status: TaskStatus;
    try {
      // The poll gets only the time left, so one slow poll (with its retries) cannot outlive the wait.
      const timeout = Math.max(1, deadline - clock.now());
      status = await provider.get(ref, signal ? { signal, timeout } : { timeout });
    } catch (error) {
      if (signal?.aborted) throw aborted(error);
      if (!isTransientPollFailure(error)) throw error;
      lastFailure = error;
      failures++;
      if (clock.now() >= deadline) throw timedOut();
      const elapsedMs = clock.now() - origin;
      const hint = error instanceof RateLimitError ? error.retryAfterMs : undefined;
      delay = Math.max(
        nextPollDelay(schedule, { elapsedMs, polls }, random),
        retryDelay(failures - 1, hint, random),
      );
      options.onEvent?.({ type: "retry", ref, attempt: failures, delayMs: delay, error });
      continue;
    }
    if (signal?.aborted) throw aborted();
    failures = 0;
    last = status;
    const now = clock.now();
    options.onEvent?.({ type: "status", ref, status, poll: polls, elapsedMs: now - origin });
    options.onUpdate?.(status);

    switch (status.status) {
      case "succeeded":
        return {
          ref,
          status,
          polls,
          submittedAt: ref.submittedAt,
          finishedAt: new Date(now).toISOString(),
        };
      case "failed":
      case "expired":
      case "cancelled":
        throw new TaskFailedError(status);
      default:
        if (now >= deadline) throw timedOut();
        delay = nextPollDelay(
          schedule,
          { elapsedMs: now - origin, polls, hintMs: status.retryAfterMs },
          random,
        );
    }
  }
}
