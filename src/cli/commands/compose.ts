/**
 * `jimeng compose <prompt> --image <path|url>...`: image-to-image and multi-image composition. Submit, wait,
 * download — the same run as `generate`, with reference images required.
 */
import { ValidationError } from "../../errors.js";
import type { CommandCall, CommandContext } from "../command-types.js";
import { runGeneration } from "../run-generation.js";

export async function run(context: CommandContext, call: CommandCall): Promise<number> {
  const images = call.options.image;
  if (!Array.isArray(images) || images.length === 0) {
    throw new ValidationError([{ path: "--image", message: "compose needs at least one reference image" }], {
      hint: 'add --image <path|url> (repeatable), e.g. jimeng compose "make it autumn" --image photo.png',
    });
  }
  return runGeneration("compose", context, call);
}
