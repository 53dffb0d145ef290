import { describe, expect, it } from "vitest";
import { unacceptedFlags } from "../../src/cli/generation-options.js";
import { ValidationError } from "../../src/errors.js";
import { resolveImages } from "../../src/media/inputs.js";
import { assertFitsModel, checkRequestFields, sameAspectRatio } from "../../src/providers/rules.js";
import { SESSION_MODELS } from "../../src/providers/session/catalog.js";
import type { ProviderRequest, ResolvedImage } from "../../src/providers/types.js";
import { resolveVisualModel } from "../../src/providers/visual/catalog.js";
import { rejectionOf } from "../helpers/http-server.js";
import { png } from "../media/fixtures.js";

const frame = (width: number, height: number, name: string): ResolvedImage => ({
  source: "bytes",
  bytes: png(width, height, { pixels: false }),
  format: "png",
  width,
  height,
  name,
});

function visual(model: string, fields: Partial<ProviderRequest> = {}): ProviderRequest {
  const kind = fields.kind ?? "generate";
  return { kind, prompt: "a fox", images: [], model: resolveVisualModel(model, kind), ...fields };
}

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  return [];
}

describe("one aspect-ratio tolerance", () => {
  it("is relative to the first frame, for the provider and the media layer alike", async () => {
    const model = resolveVisualModel("jimeng_i2v_first_tail_v30", "video");
    // 3000×1000 and 2980×1000 differ by 0.02 in width/height (0.7 %): the same ratio.
    const wide = [frame(3000, 1000, "a.png"), frame(2980, 1000, "b.png")];
    // 400×1000 and 395×1000 differ by only 0.005 (1.25 %): not the same ratio.
    const tall = [frame(400, 1000, "c.png"), frame(395, 1000, "d.png")];

    expect(issuesOf(() => assertFitsModel(visual(model.id, { kind: "video", images: wide })))).toEqual([]);
    const refused = issuesOf(() => assertFitsModel(visual(model.id, { kind: "video", images: tall })));
    expect(refused).toEqual([
      {
        path: "images.1",
        message: expect.stringMatching(/^d\.png \(last frame\) is 395×1000 but c\.png \(first frame\)/),
      },
    ]);

    const bytes = (images: ResolvedImage[]) =>
      images.map((image) => new Uint8Array(image.source === "bytes" ? image.bytes : []));
    await expect(resolveImages(bytes(wide), model, { kind: "video" })).resolves.toHaveLength(2);
    const error = await rejectionOf(resolveImages(bytes(tall), model, { kind: "video" }));
    expect((error as unknown as ValidationError).issues.map((issue) => issue.path)).toEqual(["images.1"]);
  });

  it("treats ratios within 1 % as one", () => {
    expect(sameAspectRatio(1920 / 1080, 1000 / 563)).toBe(true);
    expect(sameAspectRatio(1, 1.02)).toBe(false);
  });
});

describe("options a model does not accept", () => {
  it("refuses count 1 on a model without count at the provider too (the SDK always did)", () => {
    const request = visual("jimeng-3.1", { count: 1 });
    expect(issuesOf(() => assertFitsModel(request)).map((issue) => issue.path)).toEqual(["count"]);
    expect(checkRequestFields(request, request.model).map((issue) => issue.path)).toEqual(["count"]);
  });

  it("is one rule, named as options for the SDK and as flags for the CLI", () => {
    const request = visual("jimeng-4.0", { seed: 1 });
    expect(checkRequestFields(request, request.model)).toEqual([
      {
        path: "seed",
        message:
          "model jimeng_t2i_v40 does not accept seed; it accepts ratio, resolution, size, count, strength",
      },
    ]);
    expect(unacceptedFlags({ prompt: "a fox", seed: 1 }, request.model)).toEqual([
      {
        path: "--seed",
        message:
          "model jimeng_t2i_v40 does not accept --seed; it accepts --ratio, --resolution, --size, --count, --strength",
      },
    ]);
  });

  it("says why, where the catalog knows", () => {
    const model = SESSION_MODELS.find((candidate) => candidate.id === "jimeng-video-3.0");
    if (!model) throw new Error("no jimeng-video-3.0");
    const issues = checkRequestFields({ kind: "video", prompt: "waves", count: 2 }, model);
    expect(issues).toEqual([
      { path: "count", message: expect.stringMatching(/Why: the server makes one video per request$/) },
    ]);
  });

  it("refuses a model that does not do the kind, whichever provider", () => {
    const request = visual("jimeng-3.1", { kind: "compose" });
    expect(checkRequestFields(request, request.model)).toEqual([
      { path: "model", message: "jimeng_t2i_v31 does not do compose (it does generate)" },
    ]);
  });
});

describe("image sources", () => {
  it("refuses a mix of URLs and local files in the media layer, before any provider sees it", async () => {
    const model = resolveVisualModel("jimeng-i2i-3.0", "compose");
    const withMax = { ...model, images: model.images ? { ...model.images, max: 2 } : null };
    const error = await rejectionOf(
      resolveImages(["https://example.test/a.png", new Uint8Array(png(600, 600))], withMax, {
        kind: "compose",
      }),
    );
    expect((error as unknown as ValidationError).issues).toEqual([
      { path: "images", message: "mixes URLs and local images; give all as URLs or all as local files" },
    ]);
  });
});
