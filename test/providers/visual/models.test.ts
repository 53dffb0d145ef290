import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../src/errors.js";
import { assertFitsModel } from "../../../src/providers/rules.js";
import type { ProviderRequest, ResolvedImage } from "../../../src/providers/types.js";
import { resolveVisualModel, VISUAL_MODELS } from "../../../src/providers/visual/catalog.js";
import { toVisualNativeRequest } from "../../../src/providers/visual/native.js";
import {
  parseNativeBody,
  RECAMERA_TEMPLATES,
  VISUAL_SCHEMAS,
} from "../../../src/providers/visual/schemas.js";

const url = (n = 1): ResolvedImage[] =>
  Array.from({ length: n }, (_, i) => ({ source: "url", url: `https://example.com/${i}.png` }));
const local = (overrides: Partial<Extract<ResolvedImage, { source: "bytes" }>> = {}): ResolvedImage => ({
  source: "bytes",
  bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
  format: "png",
  width: 1024,
  height: 768,
  name: "in.png",
  ...overrides,
});

function request(model: string, fields: Partial<ProviderRequest> = {}): ProviderRequest {
  return {
    kind: "generate",
    prompt: "a fox",
    images: [],
    model: resolveVisualModel(model, fields.kind ?? "generate"),
    ...fields,
  };
}

/** What VisualProvider.submit sends: the model rules, then the translation. */
function checkedNative(request: ProviderRequest) {
  assertFitsModel(request);
  return toVisualNativeRequest(request);
}

function thrown(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error("expected a ValidationError");
}

describe("registry", () => {
  it("has a schema and a capability record for each of the 14 req_keys", () => {
    expect(Object.keys(VISUAL_SCHEMAS)).toHaveLength(14);
    expect(VISUAL_MODELS.map((m) => m.id).sort()).toEqual(Object.keys(VISUAL_SCHEMAS).sort());
  });

  it("gives every kind exactly one default model", () => {
    for (const kind of ["generate", "compose", "video"] as const)
      expect(VISUAL_MODELS.filter((m) => m.defaultFor?.includes(kind))).toHaveLength(1);
  });

  it.each([
    ["jimeng-4.0", "jimeng_t2i_v40"],
    ["jimeng-4.6", "jimeng_seedream46_cvtob"],
    ["jimeng-3.1", "jimeng_t2i_v31"],
    ["jimeng-3.0", "jimeng_t2i_v30"],
    ["jimeng-2.1", "jimeng_high_aes_general_v21_L"],
    ["jimeng-i2i-3.0", "jimeng_i2i_v30"],
    ["jimeng-video-3.0", "jimeng_t2v_v30"],
    ["JIMENG-VIDEO-3.0-1080P", "jimeng_t2v_v30_1080p"],
    ["jimeng_ti2v_v30_pro", "jimeng_ti2v_v30_pro"],
  ])("resolves %s to %s", (alias, id) => {
    expect(resolveVisualModel(alias, "generate").id).toBe(id);
  });

  it("names the alternatives for an unknown model", () => {
    const error = thrown(() => resolveVisualModel("jimeng-9", "video"));
    expect(error.message).toContain("jimeng-video-3.0");
  });

  it("defaults to 4.0 for images and Video 3.0 Pro for video", () => {
    expect(resolveVisualModel(undefined, "generate").id).toBe("jimeng_t2i_v40");
    expect(resolveVisualModel(undefined, "video").id).toBe("jimeng_ti2v_v30_pro");
  });
});

describe("native schemas", () => {
  it("fills in the documented defaults", () => {
    expect(parseNativeBody("jimeng_t2i_v40", { prompt: "x" })).toMatchObject({
      scale: 0.5,
      force_single: false,
    });
    expect(parseNativeBody("jimeng_seedream46_cvtob", { prompt: "x" })).toMatchObject({ scale: 50 });
    expect(parseNativeBody("jimeng_t2i_v31", { prompt: "x" })).toMatchObject({ use_pre_llm: true, seed: -1 });
    expect(parseNativeBody("jimeng_t2v_v30", { prompt: "x" })).toMatchObject({
      frames: 121,
      aspect_ratio: "16:9",
    });
    expect(parseNativeBody("jimeng_high_aes_general_v21_L", { prompt: "x" })).toMatchObject({
      width: 512,
      height: 512,
      use_sr: true,
    });
  });

  it.each([
    ["jimeng_t2i_v40", { prompt: "x".repeat(801) }, "prompt"],
    ["jimeng_t2i_v40", { prompt: "x", image_urls: Array(11).fill("https://e.com/a.png") }, "image_urls"],
    [
      "jimeng_seedream46_cvtob",
      { prompt: "x", image_urls: Array(15).fill("https://e.com/a.png") },
      "image_urls",
    ],
    ["jimeng_t2i_v40", { prompt: "x", size: 1000 }, "size"],
    ["jimeng_t2i_v40", { prompt: "x", width: 512, height: 512 }, "width"],
    ["jimeng_t2i_v40", { prompt: "x", width: 4096, height: 1024 }, "width"],
    ["jimeng_t2i_v40", { prompt: "x", width: 2048 }, "height"],
    ["jimeng_t2i_v40", { prompt: "x", scale: 1.5 }, "scale"],
    ["jimeng_seedream46_cvtob", { prompt: "x", scale: 0.5 }, "scale"],
    ["jimeng_t2i_v31", { prompt: "x", width: 4096, height: 4096 }, "width"],
    ["jimeng_high_aes_general_v21_L", { prompt: "x", width: 1024 }, "width"],
    ["jimeng_i2i_v30", { prompt: "x" }, "image_urls"],
    [
      "jimeng_i2i_v30",
      { prompt: "x", binary_data_base64: ["data:image/png;base64,AAAA"] },
      "binary_data_base64",
    ],
    ["jimeng_t2v_v30", { prompt: "x", frames: 120 }, "frames"],
    ["jimeng_t2v_v30", { prompt: "x", aspect_ratio: "2:1" }, "aspect_ratio"],
    ["jimeng_i2v_first_tail_v30", { prompt: "x", image_urls: ["https://e.com/a.png"] }, "image_urls"],
    [
      "jimeng_i2v_recamera_v30",
      { prompt: "x", image_urls: ["https://e.com/a.png"], template_id: "zoom" },
      "template_id",
    ],
    ["jimeng_ti2v_v30_pro", { seed: 1 }, "prompt"],
    ["jimeng_t2i_v31", { prompt: "x", typo_field: 1 }, "typo_field"],
  ] as const)("%s: an invalid body is refused, naming the field (case %#: %s)", (reqKey, body, field) => {
    const error = thrown(() => parseNativeBody(reqKey, body));
    const named = error.issues.some((issue) => issue.path.split(".")[0] === field);
    expect(named).toBe(true);
    expect(error.message.startsWith(reqKey)).toBe(true);
  });

  it("lists the 11 recamera templates", () => {
    expect(RECAMERA_TEMPLATES).toHaveLength(11);
  });
});

describe("model rules + toVisualNativeRequest", () => {
  it("4.0: ratio + resolution → recommended width/height; count 1 → force_single; strength → scale", () => {
    const native = checkedNative(
      request("jimeng-4.0", { ratio: "16:9", resolution: "4K", count: 1, strength: 0.3 }),
    );
    expect(native).toMatchObject({ reqKey: "jimeng_t2i_v40", action: "async" });
    expect(native.body).toMatchObject({ width: 5404, height: 3040, force_single: true, scale: 0.3 });
  });

  it("4.0: resolution alone → size (area), leaving the ratio to the model", () => {
    expect(checkedNative(request("jimeng-4.0", { resolution: "2k" })).body).toMatchObject({
      size: 4194304,
    });
  });

  it("4.6: strength maps onto the integer 1–100 scale; portrait ratios swap sides", () => {
    const body = checkedNative(request("jimeng-4.6", { strength: 1, ratio: "9:16" })).body;
    expect(body).toMatchObject({ scale: 100, width: 1440, height: 2560 });
  });

  it("3.1: size WxH → width/height and seed passes through", () => {
    expect(checkedNative(request("jimeng-3.1", { size: "1664x936", seed: 42 })).body).toMatchObject({
      width: 1664,
      height: 936,
      seed: 42,
    });
  });

  it("URL images → image_urls", () => {
    const body = checkedNative(request("jimeng-4.0", { kind: "compose", images: url(2) })).body;
    expect(body.image_urls).toEqual(["https://example.com/0.png", "https://example.com/1.png"]);
  });

  it("local bytes → binary_data_base64 where the model accepts it", () => {
    const body = checkedNative(request("jimeng-i2i-3.0", { kind: "compose", images: [local()] })).body;
    expect(body.binary_data_base64).toEqual([Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString("base64")]);
  });

  it("local bytes for a URL-only model → ValidationError saying how to fix it", () => {
    const error = thrown(() => checkedNative(request("jimeng-4.0", { kind: "compose", images: [local()] })));
    expect(error.message).toMatch(/URLs only/);
    expect(error.message).toMatch(/choose a model that accepts local files/);
  });

  it("video: duration 10 → frames 241, ratio → aspect_ratio", () => {
    const body = checkedNative(
      request("jimeng-video-3.0", { kind: "video", duration: 10, ratio: "21:9" }),
    ).body;
    expect(body).toMatchObject({ frames: 241, aspect_ratio: "21:9" });
  });

  it("video: a duration other than 5 or 10 is refused", () => {
    expect(() => checkedNative(request("jimeng-video-3.0", { kind: "video", duration: 7 }))).toThrow(
      /duration/,
    );
  });

  it("recamera: extra fields are merged and validated by the native schema", () => {
    const body = checkedNative(
      request("jimeng_i2v_recamera_v30", {
        kind: "video",
        images: url(1),
        extra: { template_id: "robo_arm", camera_strength: "weak" },
      }),
    ).body;
    expect(body).toMatchObject({
      template_id: "robo_arm",
      camera_strength: "weak",
      image_urls: url(1).map((i) => (i as { url: string }).url),
    });
    const error = thrown(() =>
      checkedNative(
        request("jimeng_i2v_recamera_v30", { kind: "video", images: url(1), extra: { template_id: "x" } }),
      ),
    );
    expect(error.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(["template_id", "camera_strength"]),
    );
  });

  it.each([
    ["jimeng-3.1", { negative: "blur" }, "negative"],
    ["jimeng-3.1", { strength: 0.5 }, "strength"],
    ["jimeng-3.1", { count: 2 }, "count"],
    ["jimeng-4.0", { seed: 1 }, "seed"],
    ["jimeng-4.0", { watermark: true }, "watermark"],
    ["jimeng_i2v_first_v30", { ratio: "16:9" }, "ratio"],
  ] as const)("%s refuses the generic option in %j, naming it and the model", (model, fields, option) => {
    const kind = model.includes("i2v") ? "video" : "generate";
    const images = model.includes("i2v") ? url(1) : [];
    const error = thrown(() => checkedNative(request(model, { kind, images, ...fields })));
    expect(error.issues[0]?.path).toBe(option);
    expect(error.message).toContain(resolveVisualModel(model, kind).id);
  });

  it("checks image counts, formats and sizes against the model's limits", () => {
    expect(() => checkedNative(request("jimeng-3.1", { images: url(1) }))).toThrow(
      /takes no reference images/,
    );
    expect(() =>
      checkedNative(request("jimeng_i2v_first_tail_v30", { kind: "video", images: url(1) })),
    ).toThrow(/exactly 2/);
    expect(() =>
      checkedNative(request("jimeng-i2i-3.0", { kind: "compose", images: [local({ format: "webp" })] })),
    ).toThrow(/WebP image; model jimeng_i2i_v30 accepts JPEG, PNG/);
    expect(() =>
      checkedNative(
        request("jimeng_i2v_first_v30", { kind: "video", images: [local({ width: 1000, height: 300 })] }),
      ),
    ).toThrow(/short side/);
  });

  it("count cannot exceed 15 minus the input images on 4.x", () => {
    expect(() =>
      checkedNative(request("jimeng-4.0", { kind: "compose", count: 10, images: url(6) })),
    ).toThrow(/count/);
  });

  it("2.1 (CVProcess): watermark → logo_info, action process", () => {
    const native = checkedNative(request("jimeng-2.1", { watermark: true, ratio: "16:9" }));
    expect(native).toMatchObject({
      action: "process",
      body: { logo_info: { add_logo: true }, width: 512, height: 288 },
    });
  });
});
