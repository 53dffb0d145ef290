/**
 * `jimeng cancel <task-id>`: cancels a task that has not started, where its provider can (Ark video tasks
 * while queued). The task's provider and model come from the local task list like `result`. The task is looked
 * at first: only a queued one is cancelled (on Ark, deleting a finished task would erase its record instead),
 * and a provider that cannot cancel is named plainly. `--json`: `{ taskId, provider, model, status }`.
 */
import { JimengError, ValidationError } from "../../errors.js";
import type { CommandCall, CommandContext } from "../command-types.js";
import { emulatorRequested } from "../config.js";
import { EXIT } from "../exit-codes.js";
import { openClient } from "../open-client.js";
import { openTaskIndex } from "../task-index.js";
import { safeText } from "../terminal-text.js";
import { taskRefFor } from "./result.js";

export interface CancelDocument {
  taskId: string;
  provider: string;
  model: string;
  /** The task's status after the command: `cancelled`, or the status that kept it from being cancelled. */
  status: string;
  cancelled: boolean;
}

export async function run(context: CommandContext, call: CommandCall): Promise<number> {
  const { output } = context;
  const taskId = String(call.args[0] ?? "").trim();
  if (!/^\S+$/.test(taskId)) throw new ValidationError([{ path: "task-id", message: "must not be empty" }]);
  const index = openTaskIndex(context.env, emulatorRequested(context.env, context.globals.emulator));
  const entry = await index.find(taskId, context.globals.provider);
  const globals =
    entry && !context.globals.provider ? { ...context.globals, provider: entry.provider } : context.globals;
  const client = await openClient({ ...context, globals }, call.options);
  try {
    const { jimeng } = client;
    const model = typeof call.options.model === "string" ? call.options.model : undefined;
    const ref = taskRefFor(taskId, jimeng.provider, entry, model ? { model } : {}, index.path);
    const answer = (document: CancelDocument, text: string, code: number) => {
      if (code === EXIT.ok) output.info(text);
      else output.stderrLine(`${output.errStyle.red("error:")} ${text}`);
      if (output.mode.json) output.json(document);
      else if (code === EXIT.ok) output.result(document, () => document.status);
      return code;
    };
    const base = { taskId, provider: ref.provider, model: ref.model };
    if (!jimeng.provider.cancel) {
      return answer(
        { ...base, status: "unknown", cancelled: false },
        `the ${ref.provider} provider cannot cancel a task: it runs until it ends (only Ark video tasks can be cancelled, while queued)`,
        EXIT.failed,
      );
    }
    const status = await jimeng.getTask(ref, { signal: context.signal });
    if (status.status !== "queued") {
      const why =
        status.status === "running"
          ? "it is already running, and a running task cannot be cancelled"
          : `it has ended (${status.status})`;
      return answer(
        { ...base, status: status.status, cancelled: false },
        `task ${safeText(taskId, 200)} was not cancelled: ${why}`,
        EXIT.failed,
      );
    }
    try {
      await jimeng.cancel(ref, { signal: context.signal });
    } catch (error) {
      if (!(error instanceof JimengError)) throw error;
      return answer(
        { ...base, status: "queued", cancelled: false },
        `task ${safeText(taskId, 200)} was not cancelled: ${safeText(error.message, 500)}`,
        EXIT.failed,
      );
    }
    return answer(
      { ...base, status: "cancelled", cancelled: true },
      `cancelled task ${safeText(taskId, 200)}`,
      EXIT.ok,
    );
  } finally {
    await client.close();
  }
}
