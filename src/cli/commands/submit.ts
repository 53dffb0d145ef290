/**
 * `jimeng submit <generate|compose|video> <prompt> ...`: every check `generate` makes, then the submit alone.
 * Prints the task id (stdout; `{ taskId, provider, model, kind }` with `--json`) and returns at once; the
 * task is recorded locally so that `jimeng result <id>` needs nothing else.
 */
import { ValidationError } from "../../errors.js";
import type { TaskKind, TaskRef } from "../../providers/types.js";
import type { CommandCall, CommandContext } from "../command-types.js";
import { EXIT } from "../exit-codes.js";
import { followUpNeeds, followUpOf, resultCommand } from "../follow-up.js";
import { withFlagNames } from "../generation-options.js";
import { checkedRequest, openClient, remember } from "../open-client.js";
import { readPrompt } from "../stdin.js";
import { safeText } from "../terminal-text.js";

/** The contract's `--json` document of `submit`. */
export interface SubmitDocument {
  taskId: string;
  provider: TaskRef["provider"];
  model: string;
  kind: TaskKind;
}

const KINDS: readonly TaskKind[] = ["generate", "compose", "video"];

export async function run(context: CommandContext, call: CommandCall): Promise<number> {
  const { output } = context;
  const kind = call.args[0] as TaskKind;
  if (!KINDS.includes(kind)) {
    throw new ValidationError([{ path: "kind", message: `must be one of ${KINDS.join(", ")}` }]);
  }
  const prompt = await readPrompt(context.io, call.args[1], call.options.promptFile);
  const images = call.options.image;
  if (kind === "compose" && (!Array.isArray(images) || images.length === 0)) {
    throw new ValidationError([{ path: "--image", message: "compose needs at least one reference image" }]);
  }

  const client = await openClient(context, call.options);
  try {
    const { request } = await checkedRequest(client.jimeng, kind, prompt, call.options, output);
    output.progress.phase("submitting");
    let ref: TaskRef;
    try {
      ref = await client.jimeng.submit(request, {
        signal: context.signal,
        onSubmitted: (submitted) => remember(context, submitted, prompt),
      });
    } catch (error) {
      output.progress.stop();
      throw withFlagNames(error);
    }
    const document: SubmitDocument = {
      taskId: ref.taskId,
      provider: ref.provider,
      model: ref.model,
      kind: ref.kind,
    };
    output.progress.succeed(
      `submitted task ${safeText(ref.taskId, 200)} (${ref.provider} · ${safeText(ref.model, 200)})`,
    );
    const via = followUpOf(client.prepared.settings);
    output.info(`follow it with: ${resultCommand(ref.taskId, via)}${followUpNeeds(via)}`);
    output.result(document, () => safeText(ref.taskId, 200));
    return EXIT.ok;
  } finally {
    await client.close();
  }
}
