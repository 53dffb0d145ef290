/** Fakes for the task engine's tests: virtual time, and a provider scripted poll by poll. */
import { ValidationError } from "../../src/errors.js";
import type {
  GetOptions,
  ModelCapability,
  Provider,
  ProviderRequest,
  SubmitOptions,
  TaskKind,
  TaskRef,
  TaskStatus,
} from "../../src/providers/types.js";
import type { Clock, Sleep } from "../../src/tasks/wait.js";

export const IMAGE_MODEL: ModelCapability = {
  provider: "session",
  id: "img-1",
  aliases: ["img"],
  title: "Image model",
  kinds: ["generate", "compose"],
  output: "image",
  options: ["ratio", "count", "seed"],
  ratios: ["1:1", "16:9"],
  images: { min: 0, max: 2, formats: ["png", "jpeg"], maxBytes: 1_000_000, transport: "url-or-upload" },
  maxPromptLength: 20,
  expectedSeconds: { min: 8, typical: 20 },
  defaultFor: ["generate", "compose"],
};

export const VIDEO_MODEL: ModelCapability = {
  provider: "session",
  id: "vid-1",
  aliases: [],
  title: "Video model",
  kinds: ["video"],
  output: "video",
  options: ["ratio", "duration"],
  durations: [5, 10],
  images: null,
  maxPromptLength: 100,
  expectedSeconds: { min: 40, typical: 120 },
  defaultFor: ["video"],
};

/** Virtual time: `sleep` advances the clock at once and records each pause. */
export class FakeTime {
  now: number;
  readonly pauses: number[] = [];
  readonly clock: Clock = { now: () => this.now };

  constructor(start = Date.parse("2026-01-01T00:00:00Z")) {
    this.now = start;
  }

  readonly sleep: Sleep = async (ms, signal) => {
    signal?.throwIfAborted();
    this.pauses.push(ms);
    this.now += ms;
  };
}

export type Answer = TaskStatus["status"] | { status: "running"; retryAfterMs: number } | Error;

/** A provider whose polls answer from a script (the last answer repeats); records every call. */
export class FakeProvider implements Provider {
  readonly name = "session" as const;
  readonly models: readonly ModelCapability[] = [IMAGE_MODEL, VIDEO_MODEL];
  readonly calls: string[] = [];
  readonly submitted: ProviderRequest[] = [];
  /** Virtual times of each `get` call. */
  readonly polledAt: number[] = [];
  /** The time budget each `get` call was given. */
  readonly pollTimeouts: (number | undefined)[] = [];
  closed = false;
  private polls = 0;

  constructor(
    private readonly time: FakeTime,
    private readonly answers: Answer[] = ["succeeded"],
    private readonly options: { callOnSubmitted?: boolean } = {},
  ) {}

  resolveModel(name: string | undefined, kind: TaskKind): ModelCapability {
    this.calls.push("resolveModel");
    const found =
      name === undefined
        ? this.models.find((model) => model.defaultFor?.includes(kind))
        : this.models.find((model) => model.id === name || model.aliases.includes(name));
    if (!found?.kinds.includes(kind)) {
      throw new ValidationError([{ path: "model", message: `unknown model ${name} for ${kind}` }]);
    }
    return found;
  }

  async submit(request: ProviderRequest, options: SubmitOptions = {}): Promise<TaskRef> {
    this.calls.push("submit");
    this.submitted.push(request);
    const ref = this.ref(request.model, request.kind);
    if (this.options.callOnSubmitted !== false) await options.onSubmitted?.(ref);
    return ref;
  }

  ref(model: ModelCapability = IMAGE_MODEL, kind: TaskKind = "generate"): TaskRef {
    return {
      provider: "session",
      taskId: "task-42",
      model: model.id,
      kind,
      submittedAt: new Date(this.time.now).toISOString(),
    };
  }

  async get(ref: TaskRef, options: GetOptions = {}): Promise<TaskStatus> {
    this.calls.push("get");
    this.polledAt.push(this.time.now);
    this.pollTimeouts.push(options.timeout);
    const answer = this.answers[Math.min(this.polls, this.answers.length - 1)] as Answer;
    this.polls++;
    if (answer instanceof Error) throw answer;
    if (typeof answer === "object") return { ref, outputs: [], ...answer };
    switch (answer) {
      case "succeeded":
        return { ref, status: "succeeded", outputs: [{ url: "http://127.0.0.1/out.png" }] };
      case "failed":
      case "expired":
      case "cancelled":
        return {
          ref,
          status: answer,
          outputs: [],
          requestId: "req-7",
          error: { code: 2038, message: "output did not pass review" },
        };
      default:
        return { ref, status: answer, outputs: [] };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
