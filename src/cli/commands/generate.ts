/** `jimeng generate <prompt>`: submit, wait, download (the run is shared with compose and video). */
import type { CommandCall, CommandContext } from "../command-types.js";
import { runGeneration } from "../run-generation.js";

export function run(context: CommandContext, call: CommandCall): Promise<number> {
  return runGeneration("generate", context, call);
}
