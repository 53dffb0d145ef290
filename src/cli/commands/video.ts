/**
 * `jimeng video <prompt>`: text-to-video, or image-to-video with `--image` (first frame, then last frame).
 * Submit, wait, download — the same run as `generate`.
 */
import type { CommandCall, CommandContext } from "../command-types.js";
import { runGeneration } from "../run-generation.js";

export async function run(context: CommandContext, call: CommandCall): Promise<number> {
  return runGeneration("video", context, call);
}
