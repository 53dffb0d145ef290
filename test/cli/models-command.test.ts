import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { ARK_MODELS } from "../../src/providers/ark/catalog.js";
import { SESSION_MODELS } from "../../src/providers/session/catalog.js";
import type { ModelCapability } from "../../src/providers/types.js";
import { VISUAL_MODELS } from "../../src/providers/visual/catalog.js";
import { fakeTerminal } from "./helpers.js";

async function run(args: string[]) {
  const t = fakeTerminal();
  const code = await main(args, t.io);
  return { code, out: t.out(), err: t.err() };
}

describe("jimeng models", () => {
  it("--json lists every session model's capability record", async () => {
    const result = await run(["--provider", "session", "models", "--json"]);
    expect(result.code).toBe(0);
    const { models } = JSON.parse(result.out) as { models: ModelCapability[] };
    expect(models.map((model) => model.id)).toEqual(SESSION_MODELS.map((model) => model.id));
    expect(models[0]).toEqual(JSON.parse(JSON.stringify(SESSION_MODELS[0])));
  });

  it("lists every registry (visual, session, ark) without --provider", async () => {
    const { models } = JSON.parse((await run(["models", "--json"])).out) as { models: ModelCapability[] };
    expect(models.map((model) => `${model.provider}:${model.id}`)).toEqual(
      [...VISUAL_MODELS, ...SESSION_MODELS, ...ARK_MODELS].map((model) => `${model.provider}:${model.id}`),
    );
  });

  it("--provider ark lists the Ark catalog with the fields each model accepts", async () => {
    const { models } = JSON.parse((await run(["--provider", "ark", "models", "--json"])).out) as {
      models: (ModelCapability & { fields: string[] })[];
    };
    expect(models.map((model) => model.id)).toContain("doubao-seedance-1-0-lite-i2v-250428");
    const seedream3 = models.find((model) => model.id === "doubao-seedream-3-0-t2i-250415");
    expect(seedream3?.fields).toContain("seed");
    expect(models.find((model) => model.id === "doubao-seedream-4-5-251128")?.fields).not.toContain("seed");
  });

  it("--kind keeps only the models for that kind", async () => {
    const { models } = JSON.parse((await run(["models", "--kind", "video", "--json"])).out) as {
      models: ModelCapability[];
    };
    expect(models.length).toBeGreaterThan(0);
    expect(models.every((model) => model.kinds.includes("video"))).toBe(true);
  });

  it("prints a table per provider with each model's id, kinds and aliases, marking defaults", async () => {
    const result = await run(["models"]);
    expect(result.out).toContain("visual provider\nMODEL");
    expect(result.out).toContain("session provider\nMODEL");
    for (const model of VISUAL_MODELS) expect(result.out).toContain(model.id);
    const defaultImage = SESSION_MODELS.find((model) => model.defaultFor?.includes("generate"));
    expect(result.out).toMatch(
      new RegExp(`${defaultImage?.id.replace(/\./g, "\\.")} \\*\\s+generate,compose`),
    );
    for (const model of SESSION_MODELS) expect(result.out).toContain(model.id);
  });

  it("shows what the README says it shows: the flags each model accepts and its ratios", async () => {
    const result = await run(["models", "--provider", "visual", "--kind", "generate"]);
    expect(result.out).toMatch(/MODEL +KINDS +ACCEPTS +RATIOS +RESOLUTIONS/);
    const row = result.out.split("\n").find((line) => line.startsWith("jimeng_t2i_v40"));
    expect(row).toContain("--ratio --resolution --size -n --strength --image");
    expect(row).toContain("1:1,");
  });

  it("rejects an unknown --kind with exit code 2", async () => {
    expect((await run(["models", "--kind", "audio"])).code).toBe(2);
  });
});
