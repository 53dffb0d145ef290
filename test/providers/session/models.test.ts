import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../src/errors.js";
import { assertFitsModel } from "../../../src/providers/rules.js";
import { SESSION_MODELS } from "../../../src/providers/session/catalog.js";
import { buildNativeRequest, toSessionNativeRequest } from "../../../src/providers/session/native.js";
import { imagePixelSize } from "../../../src/providers/session/pixels.js";
import {
  asyncVideoGenerationSchema,
  imageGenerationSchema,
  parseRouteBody,
  videoGenerationSchema,
} from "../../../src/providers/session/schemas.js";
import { toUploadImage } from "../../../src/providers/session/uploads.js";
import type { ModelCapability, ProviderRequest } from "../../../src/providers/types.js";

const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]);

function model(id: string): ModelCapability {
  const found = SESSION_MODELS.find((m) => m.id === id);
  if (!found) throw new Error(`no model ${id}`);
  return found;
}

function request(overrides: Partial<ProviderRequest> & { model: ModelCapability }): ProviderRequest {
  return { kind: "generate", prompt: "a cat", images: [], ...overrides };
}

/** What SessionProvider.submit sends: the model rules, then the translation. */
function checkedNative(request: ProviderRequest) {
  assertFitsModel(request);
  return toSessionNativeRequest(request);
}

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error("expected a ValidationError");
}

describe("capability records", () => {
  it("list every image and video model of the spec once, with one default per kind", () => {
    const ids = SESSION_MODELS.map((m) => m.id);
    expect(ids).toEqual(
      expect.arrayContaining(["jimeng-5.0", "jimeng-4.6", "jimeng-4.5", "jimeng-4.1", "jimeng-4.0"]),
    );
    expect(ids).toEqual(expect.arrayContaining(["jimeng-3.1", "jimeng-3.0", "nanobanana", "nanobananapro"]));
    expect(ids).toEqual(
      expect.arrayContaining(["jimeng-video-3.5-pro", "jimeng-video-veo3", "jimeng-video-sora2"]),
    );
    expect(new Set(ids).size).toBe(ids.length);
    expect(SESSION_MODELS.filter((m) => m.defaultFor?.includes("generate")).map((m) => m.id)).toEqual([
      "jimeng-4.5",
    ]);
    expect(SESSION_MODELS.filter((m) => m.defaultFor?.includes("video")).map((m) => m.id)).toEqual([
      "jimeng-video-3.5-pro",
    ]);
  });

  it("keep nanobanana models off CN and 5.0/4.6 off US", () => {
    expect(model("nanobananapro").regions).toEqual(["us", "hk", "jp", "sg"]);
    expect(model("jimeng-5.0").regions).not.toContain("us");
    expect(model("jimeng-3.1").regions).toEqual(["cn"]);
    expect(model("jimeng-video-veo3").regions).toEqual(["hk", "jp", "sg"]);
  });

  it("give video durations as the model's rule intersected with the async route's 4/5/8/10/12", () => {
    expect(model("jimeng-video-seedance-2.0").durations).toEqual([4, 5, 8, 10, 12]);
    expect(model("jimeng-video-3.5-pro").durations).toEqual([5, 10, 12]);
    expect(model("jimeng-video-sora2").durations).toEqual([4, 8, 12]);
    expect(model("jimeng-video-veo3").durations).toEqual([8]);
    expect(model("jimeng-video-3.0").resolutions).toEqual(["720p", "1080p"]);
    expect(model("jimeng-video-3.5-pro").options).not.toContain("resolution");
  });

  it("declare image limits uploaded as URL or multipart", () => {
    expect(model("jimeng-4.5").images).toMatchObject({ min: 1, max: 10, transport: "url-or-upload" });
    expect(model("jimeng-video-3.0").images).toMatchObject({
      min: 0,
      max: 2,
      roles: ["first frame", "last frame"],
    });
  });
});

describe("imagePixelSize", () => {
  it("follows the server's table, including its swapped 1k 4:3", () => {
    expect(imagePixelSize("jimeng-4.5", "16:9", "2k")).toEqual({
      width: 2560,
      height: 1440,
      ratioCode: 3,
      resolution: "2k",
    });
    expect(imagePixelSize("jimeng-4.5", "4:3", "1k")).toMatchObject({ width: 768, height: 1024 });
    expect(imagePixelSize("jimeng-4.0", "21:9", "4k")).toMatchObject({
      width: 6048,
      height: 2592,
      ratioCode: 108,
    });
  });

  it("applies the nanobanana special cases", () => {
    expect(imagePixelSize("nanobananapro", "16:9", "4k", "us")).toMatchObject({
      width: 5404,
      height: 3040,
      ratioCode: 3,
    });
    expect(imagePixelSize("nanobanana", "16:9", "4k", "us")).toMatchObject({ width: 1024, height: 1024 });
    expect(imagePixelSize("nanobanana", "16:9", "4k", "sg")).toMatchObject({ width: 1024, height: 576 });
  });
});

describe("route schemas", () => {
  it("refuse size, width and height with the server's explanation", () => {
    const issues = issuesOf(() =>
      parseRouteBody(imageGenerationSchema, { prompt: "x", size: "1024x1024", width: 5 }),
    );
    expect(issues.map((i) => i.path)).toEqual(["size", "width"]);
    expect(issues[0]?.message).toMatch(/use ratio and resolution/);
  });

  it("refuse intelligent_ratio on models where it has no effect", () => {
    const issues = issuesOf(() =>
      parseRouteBody(imageGenerationSchema, { prompt: "x", model: "jimeng-3.0", intelligent_ratio: true }),
    );
    expect(issues[0]?.path).toBe("intelligent_ratio");
  });

  it("check video durations per model, and more narrowly on the async route", () => {
    expect(
      parseRouteBody(videoGenerationSchema, { prompt: "x", model: "jimeng-video-seedance-2.0", duration: 7 }),
    ).toBeTruthy();
    const async = issuesOf(() =>
      parseRouteBody(asyncVideoGenerationSchema, {
        prompt: "x",
        model: "jimeng-video-seedance-2.0",
        duration: 7,
      }),
    );
    expect(async[0]).toMatchObject({ path: "duration" });
    expect(async[0]?.message).toMatch(/4\/5\/8\/10\/12/);
    const veo = issuesOf(() =>
      parseRouteBody(videoGenerationSchema, { prompt: "x", model: "jimeng-video-veo3", duration: 5 }),
    );
    expect(veo[0]?.message).toMatch(/allows 8 s/);
  });

  it("refuse a resolution on video models that ignore it", () => {
    const issues = issuesOf(() =>
      parseRouteBody(videoGenerationSchema, { prompt: "x", resolution: "1080p" }),
    );
    expect(issues[0]?.path).toBe("resolution");
    expect(
      parseRouteBody(videoGenerationSchema, { prompt: "x", model: "jimeng-video-3.0", resolution: "1080p" }),
    ).toBeTruthy();
  });
});

describe("toUploadImage", () => {
  it("passes URLs through and types local bytes by their name or data URL (the server judges the bytes)", () => {
    expect(toUploadImage("https://example.test/a.png", "images.0")).toEqual({
      source: "url",
      url: "https://example.test/a.png",
    });
    expect(toUploadImage({ bytes: JPEG, name: "dir/cat.jpg" }, "images.0")).toMatchObject({
      source: "bytes",
      name: "cat.jpg",
      contentType: "image/jpeg",
    });
    expect(toUploadImage(`data:image/png;base64,${PNG.toString("base64")}`, "images.1")).toMatchObject({
      contentType: "image/png",
      name: "images-1.png",
    });
    expect(toUploadImage(PNG, "images.2")).toMatchObject({
      contentType: "application/octet-stream",
      name: "images-2.bin",
    });
  });

  it("refuses empty and oversized bytes before any upload", () => {
    expect(() => toUploadImage(new Uint8Array(), "images.0")).toThrow(/empty/);
    const huge = Buffer.alloc(100 * 1024 * 1024 + 1);
    PNG.copy(huge);
    expect(() => toUploadImage(huge, "images.0")).toThrow(/at most 100 MB/);
  });
});

describe("buildNativeRequest", () => {
  it("sends URLs as JSON and local bytes as repeated multipart `images` parts", () => {
    const json = buildNativeRequest("compose", { prompt: "x" }, [
      { source: "url", url: "https://a.test/1.png" },
    ]);
    expect(json.body).toEqual({
      type: "json",
      json: { prompt: "x", model: "jimeng-4.5", images: ["https://a.test/1.png"] },
    });
    const files = [
      toUploadImage({ bytes: PNG, name: "a.png" }, "images.0"),
      toUploadImage({ bytes: JPEG, name: "b.jpg" }, "images.1"),
    ];
    const multipart = buildNativeRequest(
      "compose",
      { prompt: "x", intelligent_ratio: true, count: 1 },
      files,
    );
    expect(multipart.count).toBe(1);
    expect(multipart.body.type).toBe("multipart");
    if (multipart.body.type !== "multipart") return;
    expect(multipart.body.fields).toEqual([
      ["prompt", "x"],
      ["intelligent_ratio", "true"],
      ["model", "jimeng-4.5"],
    ]);
    expect(multipart.body.files.map((f) => [f.field, f.contentType])).toEqual([
      ["images", "image/png"],
      ["images", "image/jpeg"],
    ]);
  });

  it("refuses a mix of URLs and local images", () => {
    expect(() =>
      buildNativeRequest("compose", { prompt: "x" }, [
        { source: "url", url: "https://a.test/1.png" },
        toUploadImage(PNG, "i"),
      ]),
    ).toThrow(/all as URLs or all as local files/);
  });

  it("always names the model and a duration for videos, and sends frame URLs as file_paths", () => {
    const native = buildNativeRequest("video", { prompt: "x", model: "jimeng-video-veo3" }, [
      { source: "url", url: "https://a.test/first.png" },
    ]);
    expect(native.body).toEqual({
      type: "json",
      json: {
        prompt: "x",
        model: "jimeng-video-veo3",
        duration: 8,
        file_paths: ["https://a.test/first.png"],
      },
    });
  });
});

describe("model rules + toSessionNativeRequest", () => {
  it("maps generic options to native fields and keeps count client-side", () => {
    const native = checkedNative(
      request({
        model: model("jimeng-4.0"),
        ratio: "16:9",
        resolution: "4k",
        negative: "blur",
        strength: 0.7,
        count: 2,
      }),
    );
    expect(native).toEqual({
      kind: "image",
      model: "jimeng-4.0",
      count: 2,
      body: {
        type: "json",
        json: {
          prompt: "a cat",
          model: "jimeng-4.0",
          ratio: "16:9",
          resolution: "4k",
          negative_prompt: "blur",
          sample_strength: 0.7,
        },
      },
    });
  });

  it("names the option and the model for generic options the model does not take", () => {
    const issues = issuesOf(() =>
      checkedNative(request({ model: model("jimeng-4.5"), size: "1024x1024", seed: 7 })),
    );
    expect(issues).toEqual([
      {
        path: "size",
        message: expect.stringMatching(/jimeng-4\.5 does not accept size; .*ratio and resolution/),
      },
      { path: "seed", message: expect.stringMatching(/jimeng-4\.5 does not accept seed/) },
    ]);
    const video = issuesOf(() =>
      checkedNative(request({ kind: "video", model: model("jimeng-video-3.5-pro"), resolution: "1080p" })),
    );
    expect(video[0]).toEqual({
      path: "resolution",
      message: expect.stringContaining("jimeng-video-3.5-pro"),
    });
  });

  it("uploads resolved local images as multipart and URLs as JSON", () => {
    const local = checkedNative(
      request({
        kind: "compose",
        model: model("jimeng-4.5"),
        images: [{ source: "bytes", bytes: PNG, format: "png", width: 1, height: 1, name: "a.png" }],
      }),
    );
    expect(local.kind).toBe("compose");
    expect(local.body.type).toBe("multipart");
    const frames = checkedNative(
      request({
        kind: "video",
        model: model("jimeng-video-3.0"),
        duration: 10,
        images: [{ source: "url", url: "https://a.test/f.png" }],
      }),
    );
    expect(frames.body).toMatchObject({
      type: "json",
      json: { duration: 10, file_paths: ["https://a.test/f.png"] },
    });
  });

  it("refuses images on text-to-image and too many images on compose", () => {
    expect(() =>
      checkedNative(
        request({ model: model("jimeng-4.5"), images: [{ source: "url", url: "https://a.test/1.png" }] }),
      ),
    ).toThrow(/compose/);
    const eleven = Array.from({ length: 11 }, (_, i) => ({
      source: "url" as const,
      url: `https://a.test/${i}.png`,
    }));
    expect(() =>
      checkedNative(request({ kind: "compose", model: model("jimeng-4.5"), images: eleven })),
    ).toThrow(/at most 10/);
  });
});
