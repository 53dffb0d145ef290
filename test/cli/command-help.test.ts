/**
 * Each command's `--help` lists the flags that command accepts, then the global options under their own
 * heading. For generate, compose and video, "accepts" is what the model registries say: a flag shows when a
 * model of either provider for that kind takes it.
 */
import { describe, expect, it } from "vitest";
import { GENERATION_FLAGS } from "../../src/cli/generation-options.js";
import { SESSION_MODELS } from "../../src/providers/session/catalog.js";
import type { ModelCapability, TaskKind } from "../../src/providers/types.js";
import { VISUAL_MODELS } from "../../src/providers/visual/catalog.js";
import { runMain } from "../helpers/cli.js";
import { tempConfigDir } from "./helpers.js";

const MODELS: readonly ModelCapability[] = [...VISUAL_MODELS, ...SESSION_MODELS];

/** The long flags in a help text's "Options:" and "Global Options:" sections. */
function sections(help: string): { own: string[]; global: string[] } {
  const flagsOf = (text: string) =>
    [...text.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1] as string);
  const ownStart = help.indexOf("\nOptions:\n");
  const globalStart = help.indexOf("\nGlobal Options:\n");
  const end = help.indexOf("\nExamples:\n");
  return {
    own: flagsOf(help.slice(ownStart, globalStart)),
    global: flagsOf(help.slice(globalStart, end === -1 ? undefined : end)),
  };
}

/** Every flag a model of `kind` accepts, plus the flags that are not about the model (output, connection). */
function acceptedFor(kind: TaskKind): string[] {
  const models = MODELS.filter((model) => model.kinds.includes(kind));
  return GENERATION_FLAGS.filter((flag) => {
    if (flag.option === undefined)
      return flag.key !== "image" || models.some((model) => model.images !== null);
    return models.some((model) => model.options.includes(flag.option as NonNullable<typeof flag.option>));
  }).map((flag) => flag.name);
}

describe("command help", () => {
  it.for(["generate", "compose", "video"] as const)(
    "%s --help lists exactly the flags its models accept",
    async (kind) => {
      const run = await runMain([kind, "--help"], { env: {} });
      expect(run.code).toBe(0);
      const { own, global } = sections(run.out);
      expect(own.filter((flag) => flag !== "--help").sort()).toEqual(acceptedFor(kind).sort());
      expect(global).toEqual(expect.arrayContaining(["--json", "--emulator", "--provider", "--quiet"]));
    },
  );

  it("a flag hidden from a command's help is still refused by the model check, naming the model", async () => {
    const config = tempConfigDir();
    const run = await runMain(["generate", "a cat", "--duration", "5", "--emulator"], {
      env: { JIMENG_CONFIG_DIR: config.dir },
    }).finally(config.cleanup);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/--duration: model \S+ does not accept --duration/);
  });

  it("models --help lists --kind and the global options, nothing of the generation commands", async () => {
    const run = await runMain(["models", "--help"], { env: {} });
    const { own, global } = sections(run.out);
    expect(own.filter((flag) => flag !== "--help")).toEqual(["--kind"]);
    expect(global).toContain("--json");
  });
});
