/**
 * The provider-neutral checks of a parsed request against its model's capability record, before anything is
 * sent: the prompt length, the generic options the model accepts, and the values it declares (ratios,
 * resolutions, durations). Pure. Input images are the media layer's to check (src/media/inputs.ts); the
 * provider checks its native fields again.
 */
import type { ValidationIssue } from "../errors.js";
import type { ParsedGenerationRequest } from "../providers/request.js";
import { GENERIC_OPTIONS, type ModelCapability } from "../providers/types.js";

function list(values: readonly (string | number)[]): string {
  return values.length ? values.join(", ") : "none";
}

/** Every problem of `request` for `model`; empty when it fits. */
export function checkAgainstModel(
  request: ParsedGenerationRequest,
  model: ModelCapability,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const length = [...request.prompt].length;
  if (length > model.maxPromptLength) {
    issues.push({
      path: "prompt",
      message: `is ${length} characters; ${model.id} accepts at most ${model.maxPromptLength}`,
    });
  }

  for (const option of GENERIC_OPTIONS) {
    if (request[option] === undefined || model.options.includes(option)) continue;
    issues.push({
      path: option,
      message: `${model.id} does not accept ${option}; it accepts: ${list(model.options)}`,
    });
  }

  if (request.ratio !== undefined && model.options.includes("ratio") && model.ratios) {
    if (!model.ratios.includes(request.ratio)) {
      issues.push({
        path: "ratio",
        message: `${request.ratio} is not a ratio of ${model.id}; use one of: ${list(model.ratios)}`,
      });
    }
  }
  if (request.resolution !== undefined && model.options.includes("resolution") && model.resolutions) {
    const wanted = request.resolution.toLowerCase();
    if (!model.resolutions.some((resolution) => resolution.toLowerCase() === wanted)) {
      issues.push({
        path: "resolution",
        message: `${request.resolution} is not a resolution of ${model.id}; use one of: ${list(model.resolutions)}`,
      });
    }
  }
  if (request.duration !== undefined && model.options.includes("duration") && model.durations) {
    const durations = model.durations;
    const fits =
      "min" in durations
        ? request.duration >= durations.min && request.duration <= durations.max
        : durations.includes(request.duration);
    if (!fits) {
      const allowed = "min" in durations ? `${durations.min}–${durations.max}` : list(durations);
      issues.push({
        path: "duration",
        message: `${request.duration}s is not a duration of ${model.id}; use ${allowed} seconds`,
      });
    }
  }

  return issues;
}
