import { describe, expect, it } from "vitest";
import { z } from "zod";
import { requestShape } from "../../src/mcp/schemas.js";
import { SESSION_MODELS } from "../../src/providers/session/catalog.js";
import type { ModelCapability, TaskKind } from "../../src/providers/types.js";
import { VISUAL_MODELS } from "../../src/providers/visual/catalog.js";

function schemaFor(models: readonly ModelCapability[], kind: TaskKind) {
  return z.strictObject(requestShape(models.filter((model) => model.kinds.includes(kind))));
}

describe("MCP tool schemas from the capability records", () => {
  it.for([
    ["visual", VISUAL_MODELS],
    ["session", SESSION_MODELS],
  ] as const)("%s: every option field exists iff some model of the kind accepts it", ([, models]) => {
    for (const kind of ["generate", "compose", "video"] as const) {
      const kindModels = models.filter((model) => model.kinds.includes(kind));
      if (kindModels.length === 0) continue;
      const shape = schemaFor(models, kind).shape;
      for (const option of [
        "ratio",
        "resolution",
        "size",
        "count",
        "seed",
        "negative",
        "strength",
        "duration",
      ]) {
        const accepted = kindModels.some((model) => (model.options as readonly string[]).includes(option));
        expect(option in shape, `${kind}.${option}`).toBe(accepted);
      }
      expect("images" in shape).toBe(kindModels.some((model) => model.images !== null));
    }
  });

  it("takes the values the models declare and refuses the rest, naming the field", () => {
    const video = schemaFor(SESSION_MODELS, "video");
    const durations = SESSION_MODELS.filter((model) => model.kinds.includes("video")).flatMap((model) => {
      const value = model.durations;
      if (value === undefined) return [];
      return "min" in value ? [value.min, value.max] : [...value];
    });
    expect(video.safeParse({ prompt: "waves", duration: Math.max(...durations) }).success).toBe(true);
    const tooLong = video.safeParse({ prompt: "waves", duration: Math.max(...durations) + 1 });
    expect(tooLong.success).toBe(false);
    expect(tooLong.error?.issues[0]?.path).toEqual(["duration"]);

    const image = schemaFor(VISUAL_MODELS, "generate");
    expect(image.safeParse({ prompt: "a cat", ratio: "16:9", model: "jimeng_t2i_v40" }).success).toBe(true);
    expect(image.safeParse({ prompt: "a cat", ratio: "7:5" }).error?.issues[0]?.path).toEqual(["ratio"]);
    expect(image.safeParse({ prompt: "a cat", model: "dall-e" }).error?.issues[0]?.path).toEqual(["model"]);
    expect(image.safeParse({ prompt: "a cat", colour: "red" }).success).toBe(false);
  });

  it("compose needs reference images", () => {
    const compose = z.strictObject(
      requestShape(
        VISUAL_MODELS.filter((model) => model.kinds.includes("compose")),
        { imagesRequired: true },
      ),
    );
    expect(compose.safeParse({ prompt: "autumn" }).error?.issues[0]?.path).toEqual(["images"]);
    expect(compose.safeParse({ prompt: "autumn", images: [] }).error?.issues[0]?.path).toEqual(["images"]);
    expect(compose.safeParse({ prompt: "autumn", images: ["https://example.com/a.png"] }).success).toBe(true);
  });
});
