import { describe, expect, it } from "vitest";
import {
  GENERATION_FLAGS,
  renderOptionsTable,
  requestFromFlags,
  SUBMIT_COMMAND_OPTIONS,
  unacceptedFlags,
  withFlagNames,
} from "../../src/cli/generation-options.js";
import { ValidationError } from "../../src/errors.js";
import { ARK_MODELS } from "../../src/providers/ark/catalog.js";
import { SESSION_MODELS } from "../../src/providers/session/catalog.js";
import type { ModelCapability } from "../../src/providers/types.js";
import { VISUAL_MODELS } from "../../src/providers/visual/catalog.js";

function flag(name: string) {
  const found = GENERATION_FLAGS.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no flag ${name}`);
  return found;
}

function model(id: string): ModelCapability {
  const found = [...VISUAL_MODELS, ...SESSION_MODELS].find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no model ${id}`);
  return found;
}

function issuesOf(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error("expected a ValidationError");
}

describe("generation flags", () => {
  it("map parsed flags onto a generation request, leaving out what was not given", () => {
    const request = requestFromFlags("video", "waves", {
      model: "jimeng-video-3.0",
      ratio: "16:9",
      duration: 5,
      image: ["first.png", "last.png"],
      watermark: true,
      download: true,
      out: "assets",
    });
    expect(request).toEqual({
      kind: "video",
      prompt: "waves",
      model: "jimeng-video-3.0",
      ratio: "16:9",
      duration: 5,
      images: ["first.png", "last.png"],
    });
  });

  it("ask for no watermark only when --no-watermark was given", () => {
    expect(requestFromFlags("generate", "x", { watermark: false }).watermark).toBe(false);
    expect(requestFromFlags("generate", "x", { watermark: true })).not.toHaveProperty("watermark");
  });

  it("parse values and reject bad ones naming the flag", () => {
    expect(flag("--count").parse?.("3")).toBe(3);
    expect(flag("--seed").parse?.("-1")).toBe(-1);
    expect(flag("--strength").parse?.("0.25")).toBe(0.25);
    expect(flag("--duration").parse?.("10s")).toBe(10);
    expect(flag("--duration").parse?.("5")).toBe(5);
    expect(issuesOf(() => flag("--count").parse?.("0"))[0]?.path).toBe("--count");
    expect(issuesOf(() => flag("--count").parse?.("2.5"))[0]?.path).toBe("--count");
    expect(issuesOf(() => flag("--strength").parse?.("1.5"))[0]?.path).toBe("--strength");
    expect(issuesOf(() => flag("--ratio").parse?.("wide"))[0]?.message).toContain("16:9");
    expect(issuesOf(() => flag("--size").parse?.("big"))[0]?.path).toBe("--size");
    expect(issuesOf(() => flag("--timeout").parse?.("soon"))[0]?.path).toBe("--timeout");
  });

  it("collect every --image in order", () => {
    const parse = flag("--image").parse as (value: string, previous?: unknown) => unknown;
    expect(parse("b.png", parse("a.png", undefined))).toEqual(["a.png", "b.png"]);
  });

  it("leave output flags out of submit, which does not wait", () => {
    const flags = SUBMIT_COMMAND_OPTIONS.map((option) => option.flags);
    expect(flags).toContain("--duration <s>");
    expect(flags).not.toContain("-o, --out <dir>");
    expect(flags).not.toContain("--timeout <duration>");
  });
});

describe("unacceptedFlags", () => {
  it("names each flag the model does not accept, as typed, with the model and what it does accept", () => {
    const request = requestFromFlags("generate", "a cat", { duration: 5, seed: 7, ratio: "1:1" });
    const issues = unacceptedFlags(request, model("jimeng_t2i_v40"));
    expect(issues.map((issue) => issue.path)).toEqual(["--seed", "--duration"]);
    expect(issues[1]?.message).toBe(
      "model jimeng_t2i_v40 does not accept --duration; it accepts --ratio, --resolution, --size, --count, --strength",
    );
  });

  it("accepts a request whose every flag the model takes", () => {
    const request = requestFromFlags("video", "waves", { duration: 5, ratio: "16:9", seed: 1 });
    expect(unacceptedFlags(request, model("jimeng_t2v_v30"))).toEqual([]);
  });

  it("rejects reference images for a model that takes none", () => {
    const request = requestFromFlags("generate", "x", { image: ["a.png"] });
    expect(unacceptedFlags(request, model("jimeng_t2i_v31"))).toEqual([
      { path: "--image", message: "model jimeng_t2i_v31 takes no reference images" },
    ]);
  });
});

describe("withFlagNames", () => {
  it("turns the SDK's field paths into the flags a user typed", () => {
    const error = withFlagNames(
      new ValidationError([
        { path: "ratio", message: "7:3 is not a ratio" },
        { path: "images.1", message: "b.gif: gif is not accepted" },
        { path: "prompt", message: "too long" },
      ]),
    ) as ValidationError;
    expect(error.issues).toEqual([
      { path: "--ratio", message: "7:3 is not a ratio" },
      { path: "--image 1", message: "b.gif: gif is not accepted" },
      { path: "prompt", message: "too long" },
    ]);
  });

  it("leaves other errors alone", () => {
    const error = new Error("boom");
    expect(withFlagNames(error)).toBe(error);
  });
});

describe("renderOptionsTable", () => {
  it("has one row per flag and says which models of each provider accept it", () => {
    const table = renderOptionsTable([...VISUAL_MODELS, ...SESSION_MODELS, ...ARK_MODELS]).split("\n");
    expect(table).toHaveLength(GENERATION_FLAGS.length + 2);
    const row = (flags: string) => table.find((line) => line.startsWith(`| \`${flags}\``)) ?? "";
    // Only the Visual API's 2.1 model takes --no-watermark; no session model does; every Ark model does.
    expect(row("--no-watermark")).toMatch(/\| `jimeng_high_aes_general_v21_L` \| — \| all \|$/);
    // --size: no session model; on Ark, the image models that take pixel sizes (not SeedEdit, not video).
    expect(row("--size <WxH>")).toMatch(
      /\| — \| `doubao-seedream-4-5-251128`, .*`doubao-seedream-3-0-t2i-250415` \|$/,
    );
    expect(row("-o, --out <dir>")).toMatch(/\| all \| all \| all \|$/);
  });
});
