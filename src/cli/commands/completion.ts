/** `jimeng completion <bash|zsh|fish>`: prints the shell's completion script, generated from the command table. */
import type { CommandCall, CommandContext } from "../command-types.js";
import { completionScript, type Shell } from "../completion.js";
import { EXIT } from "../exit-codes.js";

export async function run(context: CommandContext, call: CommandCall): Promise<number> {
  context.output.print(completionScript(call.args[0] as Shell));
  return EXIT.ok;
}
