/**
 * `jimeng generate <prompt>`: submit, wait, download — and the machinery `compose`, `video`, `submit` and
 * `result` share: opening the provider for a request (every check before anything is sent), the task
 * progress on stderr (spinner phases on a TTY, plain lines otherwise), the contract's `--json` document, and
 * the mapping of a task's end to an exit code with what to do next.
 */

import { formatBytes } from "../../bytes.js";
import {
  AbortError,
  JimengError,
  type ProviderName,
  TimeoutError,
  ValidationError,
  WaitTimeoutError,
} from "../../errors.js";
import type { DownloadedFile } from "../../media/download.js";
import { checkNameTemplate } from "../../media/naming.js";
import type { GenerationRequest } from "../../providers/request.js";
import type {
  ModelCapability,
  TaskKind,
  TaskOutput,
  TaskRef,
  TaskState,
  TaskStatus,
} from "../../providers/types.js";
import { ENV_NAMES } from "../../setting-names.js";
import type { Jimeng } from "../../tasks/client.js";
import { TaskFailedError } from "../../tasks/errors.js";
import type { TaskEvent } from "../../tasks/events.js";
import type { CommandCall, CommandContext } from "../command-types.js";
import {
  emulatorRequested,
  openConfigStore,
  resolveSettings,
  type ServerTarget,
  type Settings,
  serverTarget,
} from "../config.js";
import { EXIT, exitCodeFor } from "../exit-codes.js";
import { type FollowUpOptions, followUpOf, resultCommand } from "../follow-up.js";
import { countWarning, requestFromFlags, unacceptedFlags, withFlagNames } from "../generation-options.js";
import { explainUnknownModel } from "../model-hint.js";
import type { Output } from "../output.js";
import { checkOutputFolder } from "../output-folder.js";
import { preflight } from "../preflight.js";
import { type PreparedProvider, pollIntervalCap, prepareProvider, providerOptions } from "../settings.js";
import { SUBMIT_GRACE_MS, submitGrace } from "../submit-grace.js";
import { entryFor, openTaskIndex, type SubmittingEntry, submittingEntry } from "../task-index.js";
import { safeText } from "../terminal-text.js";

// ------------------------------------------------------------------------------------------ the document

/** One output in the `--json` document. */
export interface OutputEntry {
  url?: string;
  file?: string;
  bytes?: number;
  sha256?: string;
  contentType?: string;
}

/** The contract's `--json` document of `generate`, `compose`, `video` and `result`. */
export interface TaskDocument {
  taskId: string;
  provider: ProviderName;
  model: string;
  status: TaskState;
  outputs: OutputEntry[];
  error?: { code: string | number; message: string; requestId?: string };
  /** `finishedAt` is null while the task has not ended (a timeout, an interruption, `result` without --wait). */
  timings: { submittedAt: string; finishedAt: string | null; polls: number };
}

/** Pure: the outputs a task reported, with the files they were saved to (matched by index). */
export function outputEntries(
  outputs: readonly TaskOutput[],
  files: readonly DownloadedFile[] = [],
): OutputEntry[] {
  return outputs.map((output, index) => {
    const entry: OutputEntry = {};
    if (output.url !== undefined) entry.url = output.url;
    const file = files.find((candidate) => candidate.index === index);
    if (file) {
      entry.file = file.file;
      entry.bytes = file.bytes;
      entry.sha256 = file.sha256;
      entry.contentType = file.contentType;
    } else if (output.contentType !== undefined) {
      entry.contentType = output.contentType;
    }
    return entry;
  });
}

/** Pure: the `error` member for a failure: the task's own failure when it has one, else the thrown error's. */
export function errorMember(error: unknown, status?: TaskStatus): NonNullable<TaskDocument["error"]> {
  if (status && "error" in status) {
    const { code, message, requestId } = status.error;
    const failure = status.requestId ?? requestId;
    return { code, message, ...(failure !== undefined ? { requestId: failure } : {}) };
  }
  if (error instanceof JimengError) {
    const json = error.toJSON();
    return {
      code: json.code,
      message: json.message,
      ...(json.requestId ? { requestId: json.requestId } : {}),
    };
  }
  return { code: "UNEXPECTED", message: error instanceof Error ? error.message : String(error) };
}

// ------------------------------------------------------------------------------------------ progress

const DOWNLOAD_LINE_EVERY_MS = 10_000;

function secondsText(ms: number): string {
  return `${Math.max(0, Math.floor(ms / 1000))} s`;
}

/**
 * Shows one task's phases: submitting → submitted (always a line, with the id) → queued → running 12 s →
 * downloading 2/4 → saved. On a TTY a spinner updates in place (and the elapsed time ticks); without one, a
 * plain line per change of phase.
 */
export class TaskProgress {
  readonly #output: Output;
  #ref: TaskRef | undefined;
  #state: string | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #downloads = new Map<number, { bytes: number; total?: number }>();
  #downloadCount = 0;
  #lastDownloadText = "";
  #lastDownloadLine = 0;
  /** Every poll of the wait, failed ones included. */
  polls = 0;
  last: TaskStatus | undefined;

  constructor(output: Output) {
    this.#output = output;
  }

  get interactive(): boolean {
    return this.#output.mode.interactive;
  }

  submitting(): void {
    this.#output.progress.phase("submitting");
  }

  submitted(ref: TaskRef): void {
    if (this.#ref?.taskId === ref.taskId) return;
    this.#ref = ref;
    this.#output.progress.info(
      `submitted task ${safeText(ref.taskId, 200)} (${ref.provider} · ${safeText(ref.model, 200)})`,
    );
    this.#show("queued");
  }

  /** For `result`: a task picked up by id. */
  resume(ref: TaskRef): void {
    this.#ref = ref;
    this.#output.progress.phase(`checking task ${safeText(ref.taskId, 200)}`);
  }

  expectDownloads(count: number): void {
    this.#downloadCount = count;
  }

  readonly onEvent = (event: TaskEvent): void => {
    switch (event.type) {
      case "submitted":
        this.submitted(event.ref);
        break;
      case "status":
        this.polls = event.poll;
        this.last = event.status;
        this.#output.verbose(
          `poll ${event.poll}: ${event.status.status}${event.status.requestId ? ` (request id ${safeText(event.status.requestId, 200)})` : ""}`,
        );
        if (event.status.status === "queued" || event.status.status === "running")
          this.#show(event.status.status);
        if (event.status.status === "succeeded") this.#downloadCount = event.status.outputs.length;
        break;
      case "retry":
        this.polls++;
        this.#output.verbose(
          `poll failed (${safeText(String(event.error.code), 100)}); trying again in ${Math.round(event.delayMs)} ms: ${safeText(event.error.message, 2000)}`,
        );
        break;
      case "download":
        this.#download(event.index, event.bytes, event.total);
        break;
      case "ignored":
        this.#downloadCount = event.kept;
        this.#output.warn(
          `the task answered ${event.kept + event.ignored} outputs; kept ${event.kept} (what it can have made) and ignored the rest`,
        );
        break;
      case "done":
        this.polls = Math.max(this.polls, event.polls);
        break;
    }
  };

  #show(state: string): void {
    const changed = state !== this.#state;
    this.#state = state;
    if (this.interactive) {
      this.#render();
      if (!this.#ticker) {
        this.#ticker = setInterval(() => this.#render(), 1000);
        this.#ticker.unref();
      }
    } else if (changed) {
      this.#output.progress.phase(state);
    }
  }

  #render(): void {
    if (!this.#state) return;
    const since = this.#ref ? Date.parse(this.#ref.submittedAt) : Number.NaN;
    const elapsed = Number.isFinite(since) ? ` ${secondsText(Date.now() - since)}` : "";
    this.#output.progress.phase(`${this.#state}${elapsed}`);
  }

  #download(index: number, bytes: number, total?: number): void {
    this.#stopTicker();
    this.#state = "downloading";
    this.#downloads.set(index, total === undefined ? { bytes } : { bytes, total });
    const done = [...this.#downloads.values()].filter(
      (d) => d.total !== undefined && d.bytes >= d.total,
    ).length;
    const count = Math.max(this.#downloadCount, this.#downloads.size);
    const received = [...this.#downloads.values()].reduce((sum, d) => sum + d.bytes, 0);
    let text: string;
    if (this.interactive) {
      text = `downloading ${done}/${count} · ${formatBytes(received)}`;
    } else {
      // Plain lines: one when downloads start, then one every 10 s while a long download goes on.
      text = `downloading ${count} file${count === 1 ? "" : "s"}`;
      const now = Date.now();
      if (text === this.#lastDownloadText && now - this.#lastDownloadLine >= DOWNLOAD_LINE_EVERY_MS) {
        this.#lastDownloadLine = now;
        this.#output.progress.info(`downloaded ${formatBytes(received)} so far (${done}/${count} done)`);
        return;
      }
      if (text !== this.#lastDownloadText) this.#lastDownloadLine = now;
    }
    if (text === this.#lastDownloadText) return;
    this.#lastDownloadText = text;
    this.#output.progress.phase(text);
  }

  #stopTicker(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  succeed(text: string): void {
    this.#stopTicker();
    this.#output.progress.succeed(text);
  }

  fail(text: string): void {
    this.#stopTicker();
    this.#output.progress.fail(text);
  }

  stop(): void {
    this.#stopTicker();
    this.#output.progress.stop();
  }
}

// ------------------------------------------------------------------------------------------ opening

export interface OpenedClient {
  prepared: Pick<PreparedProvider, "settings" | "close" | "emulatorUrl">;
  jimeng: Jimeng;
  close(): Promise<void>;
}

/**
 * Settings, emulator (with --emulator), provider and client; with `--server` (or JIMENG_SERVER_URL), a
 * shared service as the provider. Throws ConfigError (3) / AuthError (3) / ValidationError (2).
 */
export async function openClient(
  context: CommandContext,
  options: Readonly<Record<string, unknown>>,
): Promise<OpenedClient> {
  const flags: { endpoint?: string; region?: string; out?: string; model?: string } = {};
  if (typeof options.endpoint === "string") flags.endpoint = options.endpoint;
  if (typeof options.region === "string") flags.region = options.region;
  if (typeof options.out === "string") flags.out = options.out;
  const server = serverTarget(context.globals, context.env);
  if (server) return openServiceClient(context, flags, server);
  // An Ark model id (`doubao-seedream-…`, `ep-…`) picks the ark provider when none is named.
  if (typeof options.model === "string") flags.model = options.model;
  const prepared = await prepareProvider(context, flags);
  try {
    const maxPollIntervalMs = pollIntervalCap(context.env, prepared.settings.emulator);
    const [{ createProvider }, { Jimeng }] = await Promise.all([
      import("../../providers/create.js"),
      import("../../tasks/client.js"),
    ]);
    const provider = createProvider(providerOptions(prepared.provider));
    const jimeng = new Jimeng({
      provider,
      ...(maxPollIntervalMs !== undefined ? { maxPollIntervalMs } : {}),
    });
    return {
      prepared,
      jimeng,
      close: async () => {
        await jimeng.close().catch(() => undefined);
        await prepared.close();
      },
    };
  } catch (error) {
    await prepared.close();
    throw error;
  }
}

/** A shared `jimeng serve` as the provider: its models and key are checked here, before any request. */
async function openServiceClient(
  context: CommandContext,
  flags: { out?: string },
  server: ServerTarget,
): Promise<OpenedClient> {
  if (emulatorRequested(context.env, context.globals.emulator)) {
    throw new ValidationError([
      {
        path: "--server",
        message: `a shared service and the built-in emulator exclude each other: drop --emulator (or ${ENV_NAMES.emulator}), or --server (or ${ENV_NAMES.serverUrl})`,
      },
    ]);
  }
  const settings: Settings = {
    ...resolveSettings({
      flags: flags.out !== undefined ? { out: flags.out } : {},
      env: context.env,
      store: openConfigStore(context.env).read(),
    }),
    server: server.url,
  };
  context.output.secrets.add(server.apiKey?.value);
  const [{ ServiceProvider }, { Jimeng }] = await Promise.all([
    import("../../providers/service/provider.js"),
    import("../../tasks/client.js"),
  ]);
  const provider = await ServiceProvider.connect(
    {
      url: server.url.value,
      ...(server.apiKey ? { apiKey: server.apiKey.value } : {}),
      keyHint: `set ${ENV_NAMES.serverApiKey} (or --api-key) to an API key the service's admin created for you`,
    },
    { signal: context.signal },
  );
  const maxPollIntervalMs = pollIntervalCap(context.env, false);
  const jimeng = new Jimeng({ provider, ...(maxPollIntervalMs !== undefined ? { maxPollIntervalMs } : {}) });
  return {
    prepared: { settings, close: async () => {} },
    jimeng,
    close: () => jimeng.close().catch(() => undefined),
  };
}

/**
 * The request the flags ask for, checked against its model before anything is sent: the model exists and
 * does `kind`, and every flag given is one the model accepts (exit 2 naming the flag and the model).
 */
export async function checkedRequest(
  jimeng: Jimeng,
  kind: TaskKind,
  prompt: string,
  options: Readonly<Record<string, unknown>>,
  output?: Output,
): Promise<{ request: GenerationRequest; model: ModelCapability }> {
  const request = requestFromFlags(kind, prompt, options);
  let model: ModelCapability;
  try {
    model = jimeng.provider.resolveModel(request.model, kind);
  } catch (error) {
    throw withFlagNames(await explainUnknownModel(error, request.model, kind, jimeng.provider));
  }
  const issues = unacceptedFlags(request, model);
  if (issues.length > 0) {
    throw new ValidationError(issues, {
      hint: `\`jimeng models\` lists what each model accepts; pick another with --model, or leave the flag out`,
    });
  }
  try {
    await preflight(request, model);
  } catch (error) {
    throw withFlagNames(error);
  }
  const warning = countWarning(request, model);
  if (warning) output?.warn(warning);
  return { request, model };
}

/** The prompt argument: `<prompt...>` words joined by spaces. */
export function promptOf(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(" ") : (value ?? "");
  if (text.trim() === "") throw new ValidationError([{ path: "prompt", message: "must not be empty" }]);
  return text;
}

/** `--name` checked before anything is sent. */
export function checkName(name: unknown): string | undefined {
  if (typeof name !== "string") return undefined;
  try {
    checkNameTemplate(name);
  } catch (error) {
    throw withFlagNames(error);
  }
  return name;
}

/** Records a submission in the local task list; a failure to write is a warning, never a failed run. */
export async function remember(context: CommandContext, ref: TaskRef, prompt?: string): Promise<void> {
  const index = openTaskIndex(context.env, emulatorRequested(context.env, context.globals.emulator), (text) =>
    context.output.redact(text),
  );
  try {
    await index.record(entryFor(ref, prompt));
  } catch (error) {
    context.output.warn(
      `could not record task ${ref.taskId} in ${index.path} (${error instanceof Error ? error.message : String(error)}); \`jimeng result\` will need --model`,
    );
  }
}

// ------------------------------------------------------------------------------------------ ending

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
export function reportFailure(context: CommandContext, ending: Ending, error: unknown): number {
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
  const resume = resultCommand(ref.taskId, { out: ending.out, ...ending.via });
  if (error instanceof AbortError) {
    progress.stop();
    if (output.mode.json) output.json(document);
    output.stderrLine(
      `${output.errStyle.yellow("interrupted:")} task ${safeText(ref.taskId, 200)} was submitted (it may be charged) and may still run; pick it up with \`${resume}\``,
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
      hint: `${error.hint ? `${error.hint}; then ` : ""}save the outputs with \`${recover}\``,
      cause: error,
    });
  } else if (error instanceof TimeoutError) {
    shown = new WaitTimeoutError(error.message, {
      taskId: ref.taskId,
      ...(error.lastStatus !== undefined ? { lastStatus: error.lastStatus } : {}),
      hint: `the task keeps running on the server; pick it up with \`${resume}\``,
    });
  }
  output.error(shown);
  return exitCodeFor(error);
}

/** Human lines for a finished task: saved paths, else the output URLs. */
export function printOutputs(output: Output, entries: readonly OutputEntry[]): void {
  for (const entry of entries) {
    const line = entry.file ?? entry.url;
    if (line !== undefined) output.print(safeText(line, 4000));
  }
}

// ------------------------------------------------------------------------------------------ the command

/** generate / compose / video: submit, wait, download; one document or the saved paths. */
export async function runGeneration(
  kind: TaskKind,
  context: CommandContext,
  call: CommandCall,
): Promise<number> {
  const { output } = context;
  const options = call.options;
  const prompt = promptOf(call.args[0]);
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
      return reportFailure(
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

export function run(context: CommandContext, call: CommandCall): Promise<number> {
  return runGeneration("generate", context, call);
}
