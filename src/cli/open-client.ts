/**
 * What every generation command does before it sends anything: open the client for the chosen provider
 * (emulator included), read the prompt and `--name`, check the request against its model, and record each
 * submission in the local task list.
 */
import { ValidationError } from "../errors.js";
import { checkNameTemplate } from "../media/naming.js";
import type { GenerationRequest } from "../providers/request.js";
import type { ModelCapability, TaskKind, TaskRef, TaskState } from "../providers/types.js";
import { ENV_NAMES } from "../setting-names.js";
import type { Jimeng } from "../tasks/client.js";
import type { CommandContext } from "./command-types.js";
import {
  emulatorRequested,
  openConfigStore,
  resolveSettings,
  type ServerTarget,
  type Settings,
  serverTarget,
} from "./config.js";
import { countWarning, requestFromFlags, unacceptedFlags, withFlagNames } from "./generation-options.js";
import { explainUnknownModel } from "./model-hint.js";
import type { Output } from "./output.js";
import { preflight } from "./preflight.js";
import { type PreparedProvider, pollIntervalCap, prepareProvider, providerOptions } from "./settings.js";
import type { TaskDocument } from "./task-document.js";
import { entryFor, openTaskIndex, type TaskOutcome } from "./task-index.js";

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
      import("../providers/create.js"),
      import("../tasks/client.js"),
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
    ...(server.apiKey?.source === "flag" ? { serverKeyTyped: true } : {}),
  };
  context.output.secrets.add(server.apiKey?.value);
  const [{ ServiceProvider }, { Jimeng }] = await Promise.all([
    import("../providers/service/provider.js"),
    import("../tasks/client.js"),
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
    const server = serverTarget(context.globals, context.env)?.url.value;
    await index.record(entryFor(ref, prompt, server));
  } catch (error) {
    context.output.warn(
      `could not record task ${ref.taskId} in ${index.path} (${error instanceof Error ? error.message : String(error)}); \`jimeng result\` will need --model`,
    );
  }
}

/** Records how a task ended (status, saved files) for `jimeng tasks`; a failure to write is a warning. */
export async function rememberOutcome(context: CommandContext, document: TaskDocument): Promise<void> {
  if (!ENDED.includes(document.status)) return;
  const index = openTaskIndex(context.env, emulatorRequested(context.env, context.globals.emulator), (text) =>
    context.output.redact(text),
  );
  const files = document.outputs.flatMap((output) => (output.file !== undefined ? [output.file] : []));
  const outcome: TaskOutcome = {
    outcome: "ended",
    taskId: document.taskId,
    provider: document.provider,
    status: document.status,
    files,
    at: new Date().toISOString(),
  };
  await index.record(outcome).catch((error: unknown) => {
    context.output.warn(
      `could not record how task ${document.taskId} ended in ${index.path} (${error instanceof Error ? error.message : String(error)})`,
    );
  });
}

const ENDED: readonly TaskState[] = ["succeeded", "failed", "expired", "cancelled"];
