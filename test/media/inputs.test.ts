import { mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortError, ValidationError } from "../../src/errors.js";
import { resolveImages } from "../../src/media/inputs.js";
import { sniffImage } from "../../src/media/sniff.js";
import type { ImageLimits, ModelCapability } from "../../src/providers/types.js";
import { rejectionOf } from "../helpers/http-server.js";
import { dataUrl, jpeg, png, webpExtended, webpLossless, webpLossy } from "./fixtures.js";

const MB = 1024 * 1024;

function model(images: Partial<ImageLimits> | null, id = "test-model"): ModelCapability {
  return {
    provider: "session",
    id,
    aliases: [],
    title: "Test model",
    kinds: ["compose"],
    output: "image",
    options: [],
    images:
      images === null
        ? null
        : {
            min: 0,
            max: 4,
            formats: ["jpeg", "png", "webp"],
            maxBytes: 10 * MB,
            transport: "url-or-upload",
            ...images,
          },
    maxPromptLength: 800,
    expectedSeconds: { min: 5, typical: 20 },
  };
}

async function issuesOf(promise: Promise<unknown>) {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(ValidationError);
  return (error as unknown as ValidationError).issues;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "jimeng-inputs-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

describe("sniffImage", () => {
  it("reads PNG dimensions from IHDR", () => {
    expect(sniffImage(png(640, 480))).toEqual({ ok: true, format: "png", width: 640, height: 480 });
  });

  it("reads baseline and progressive JPEG frame headers after APPn segments", () => {
    expect(sniffImage(jpeg(1920, 1080, 0xc0))).toEqual({
      ok: true,
      format: "jpeg",
      width: 1920,
      height: 1080,
    });
    expect(sniffImage(jpeg(800, 1200, 0xc2))).toEqual({ ok: true, format: "jpeg", width: 800, height: 1200 });
  });

  it("reads all three WebP variants", () => {
    expect(sniffImage(webpLossy(300, 200))).toMatchObject({
      ok: true,
      format: "webp",
      width: 300,
      height: 200,
    });
    expect(sniffImage(webpLossless(16383, 1))).toMatchObject({ ok: true, width: 16383, height: 1 });
    expect(sniffImage(webpExtended(5000, 7000))).toMatchObject({ ok: true, width: 5000, height: 7000 });
  });

  it("reports every prefix shorter than the header as unusable, and reads the header once it is complete", () => {
    // Bytes needed: PNG signature + IHDR fields; JPEG up to the SOF's width (after 2+18+304+69+1 bytes of
    // SOI, APP0, APP1, DQT and a fill byte); each WebP variant up to its size fields.
    const cases: Array<[string, Buffer, number]> = [
      ["png", png(10, 10), 24],
      ["jpeg", jpeg(10, 10), 403],
      ["webp VP8", webpLossy(10, 10), 30],
      ["webp VP8L", webpLossless(10, 10), 25],
      ["webp VP8X", webpExtended(10, 10), 30],
    ];
    for (const [label, image, needed] of cases) {
      for (let cut = 0; cut < needed; cut++) {
        expect(sniffImage(image.subarray(0, cut)).ok, `${label} cut at ${cut}`).toBe(false);
      }
      expect(sniffImage(image.subarray(0, needed)), label).toMatchObject({ ok: true, width: 10, height: 10 });
    }
  });

  it("names formats it recognises but does not accept", () => {
    expect(sniffImage(Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00"))).toMatchObject({
      ok: false,
      kind: "GIF image",
    });
    expect(sniffImage(Buffer.from("<!DOCTYPE html><html>"))).toMatchObject({
      ok: false,
      kind: "text (HTML/XML) file",
    });
  });

  it("skips a JPEG segment of maximal length without reading past the end", () => {
    const hostile = Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 0x00]);
    expect(sniffImage(hostile)).toMatchObject({ ok: false, reason: expect.stringContaining("truncated") });
  });
});

describe("resolveImages", () => {
  it("turns a PNG file, a data URL and bytes into bytes with their header facts", async () => {
    const path = await file("photo.png", png(64, 48));
    const [fromFile, fromData, fromBytes] = await resolveImages(
      [path, dataUrl(jpeg(100, 50), "image/jpeg"), new Uint8Array(webpLossy(30, 20))],
      model({}),
    );
    expect(fromFile).toMatchObject({
      source: "bytes",
      format: "png",
      width: 64,
      height: 48,
      name: "photo.png",
    });
    expect(fromData).toMatchObject({
      source: "bytes",
      format: "jpeg",
      width: 100,
      height: 50,
      name: "image-2.jpg",
    });
    expect(fromBytes).toMatchObject({
      source: "bytes",
      format: "webp",
      width: 30,
      height: 20,
      name: "image-3.webp",
    });
    expect(Buffer.from((fromFile as { bytes: Uint8Array }).bytes)).toEqual(png(64, 48));
  });

  it("passes http(s) URLs through without fetching them", async () => {
    const url = "https://example.invalid/cat.png?sig=abc";
    expect(await resolveImages([url], model({ transport: "url" }))).toEqual([{ source: "url", url }]);
  });

  it("refuses a local file for a URL-only model and says how to fix it", async () => {
    const path = await file("local.png", png(10, 10));
    const issues = await issuesOf(resolveImages([path], model({ transport: "url" }, "url-only")));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe("images.0");
    expect(issues[0]?.message).toMatch(/url-only accepts image URLs only/);
    expect(issues[0]?.message).toMatch(/host the file/);
    expect(issues[0]?.message).toMatch(/choose a model that accepts local files/);
  });

  it("says a model without image inputs takes no reference images", async () => {
    const issues = await issuesOf(resolveImages(["https://x.invalid/a.png"], model(null, "t2i")));
    expect(issues).toEqual([{ path: "images", message: "model t2i takes no reference images" }]);
    expect(await resolveImages([], model(null))).toEqual([]);
  });

  it("checks the image count against min and max", async () => {
    const url = "https://x.invalid/a.png";
    expect(await issuesOf(resolveImages([], model({ min: 1 })))).toEqual([
      { path: "images", message: "model test-model needs at least 1 reference image; got 0" },
    ]);
    expect(await issuesOf(resolveImages([url, url, url], model({ max: 2 })))).toEqual([
      { path: "images", message: "model test-model takes at most 2 reference images; got 3" },
    ]);
  });

  it("refuses a format the model does not accept, naming the file and the accepted formats", async () => {
    const path = await file("pic.webp", webpLossy(10, 10));
    const issues = await issuesOf(resolveImages([path], model({ formats: ["jpeg", "png"] })));
    expect(issues).toEqual([
      { path: "images.0", message: "pic.webp is a WebP image; model test-model accepts JPEG, PNG" },
    ]);
  });

  it("refuses a file with the wrong magic bytes or a truncated header, one clear issue each", async () => {
    const fake = await file("fake.png", Buffer.from("this is not an image at all"));
    const cut = await file("cut.jpg", jpeg(10, 10).subarray(0, 200));
    const issues = await issuesOf(resolveImages([fake, cut], model({})));
    expect(issues).toEqual([
      {
        path: "images.0",
        message: expect.stringMatching(/^fake\.png cannot be used: .*not a JPEG, PNG or WebP/),
      },
      { path: "images.1", message: expect.stringMatching(/^cut\.jpg cannot be used: .*truncated/) },
    ]);
  });

  it("refuses a 2 GB file from its size alone", async () => {
    const path = join(dir, "huge.png");
    const handle = await open(path, "w");
    await handle.truncate(2 * 1024 * MB);
    await handle.close();
    const issues = await issuesOf(resolveImages([path], model({ maxBytes: 10 * MB })));
    expect(issues).toEqual([
      { path: "images.0", message: "huge.png is 2 GB; model test-model accepts at most 10 MB" },
    ]);
  });

  it("refuses bytes and data URLs over maxBytes", async () => {
    const big = Buffer.concat([png(10, 10), Buffer.alloc(2000)]);
    const issues = await issuesOf(resolveImages([big, dataUrl(big)], model({ maxBytes: 1000 })));
    expect(issues.map((issue) => issue.path)).toEqual(["images.0", "images.1"]);
    expect(issues[0]?.message).toMatch(/^image 1 is 2\.\d KB; model test-model accepts at most 1000 B$/);
  });

  it("checks the longest side, the short side and the aspect ratio, one issue per problem", async () => {
    const huge = await file("huge-dims.png", png(100_000, 100_000, { pixels: false }));
    const tiny = await file("tiny.png", png(100, 50));
    const banner = await file("banner.jpg", jpeg(8000, 500));
    const limits = { maxSide: 6000, minShortSide: 300, maxAspectRatio: 3 };
    const issues = await issuesOf(resolveImages([huge, tiny, banner], model(limits)));
    expect(issues).toEqual([
      {
        path: "images.0",
        message: "huge-dims.png is 100000×100000 px; model test-model accepts at most 6000 px per side",
      },
      {
        path: "images.1",
        message: "tiny.png is 100×50 px; model test-model needs at least 300 px on the short side",
      },
      {
        path: "images.2",
        message: "banner.jpg is 8000×500 px; model test-model accepts at most 6000 px per side",
      },
      {
        path: "images.2",
        message:
          "banner.jpg is 8000×500 px, an aspect ratio of 16.00:1; model test-model accepts at most 3:1",
      },
    ]);
  });

  it("requires one aspect ratio when the model says so, naming both frames", async () => {
    const first = await file("first.png", png(1920, 1080, { pixels: false }));
    const same = await file("same.png", png(1000, 563, { pixels: false }));
    const square = await file("square.png", png(500, 500));
    const limits = { sameAspectRatio: true, roles: ["first frame", "last frame"] };
    expect(await resolveImages([first, same], model(limits))).toHaveLength(2);
    const issues = await issuesOf(resolveImages([first, square], model(limits)));
    expect(issues).toEqual([
      {
        path: "images.1",
        message:
          "square.png (last frame) is 500×500 but first.png (first frame) is 1920×1080; model test-model needs all images to share one aspect ratio",
      },
    ]);
  });

  it("names a missing file and a folder by base name only", async () => {
    const sub = join(dir, "secret-folder");
    await mkdir(sub, { recursive: true });
    const issues = await issuesOf(resolveImages([join(sub, "missing.png"), sub], model({})));
    expect(issues).toEqual([
      { path: "images.0", message: "missing.png does not exist" },
      { path: "images.1", message: "secret-folder is a folder, not an image file" },
    ]);
    expect(JSON.stringify(issues)).not.toContain(dir);
  });

  it("refuses a data URL that is not base64", async () => {
    const issues = await issuesOf(
      resolveImages(["data:image/png;base64,@@@@", "data:image/png,abc"], model({})),
    );
    expect(issues.map((issue) => issue.message)).toEqual([
      "image 1 is a data URL whose content is not valid base64",
      "image 2 is a data URL without ;base64 encoding; only base64 data URLs are supported",
    ]);
  });

  it("accepts a file: URL as a local path", async () => {
    const path = await file("via-url.png", png(8, 8));
    const [image] = await resolveImages([`file://${path}`], model({}));
    expect(image).toMatchObject({ source: "bytes", name: "via-url.png", width: 8 });
  });

  it("stops with AbortError when the signal has fired", async () => {
    const path = await file("a.png", png(8, 8));
    const error = await rejectionOf(resolveImages([path], model({}), { signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(AbortError);
  });
});
