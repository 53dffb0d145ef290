/**
 * `jimeng --provider ark mcp --emulator`: the tools follow Ark's capability records (Seedream images,
 * Seedance video), and generate and video run to completion with files from the emulator.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARK_MODELS } from "../../src/providers/ark/catalog.js";
import { McpHarness, textOf } from "./mcp-harness.js";

let mcp: McpHarness;

beforeAll(async () => {
  mcp = await McpHarness.start(["--provider", "ark"]);
});

afterAll(async () => {
  await mcp?.close();
});

describe("jimeng mcp on the Ark provider", () => {
  it("offers Ark's models for each kind", async () => {
    const { tools } = await mcp.client.listTools();
    for (const kind of ["generate", "video"] as const) {
      const tool = tools.find((entry) => entry.name === kind);
      const properties = tool?.inputSchema.properties as Record<string, { enum?: string[] }>;
      const ids = ARK_MODELS.filter((model) => model.kinds.includes(kind)).map((model) => model.id);
      expect(properties.model?.enum, kind).toEqual(expect.arrayContaining(ids));
    }
  });

  it("generate makes a Seedream set and video a Seedance clip, each saved with the emulator's bytes", async () => {
    const images = await mcp.call("generate", { prompt: "two views of a lighthouse", count: 2 });
    expect(images.isError, textOf(images)).toBeFalsy();
    const set = JSON.parse(textOf(images)) as { taskId: string; provider: string; model: string };
    expect(set.provider).toBe("ark");
    expect(set.model).toMatch(/^doubao-seedream-/);
    // Ark's image calls are synchronous: the task id is the provider's own, so the emulator's task is found
    // by its prompt.
    const { tasks } = await mcp.emulator<{ tasks: { prompt: string; outputs: { sha256: string }[] }[] }>(
      "tasks",
    );
    const made = tasks.find((task) => task.prompt === "two views of a lighthouse");
    const links = images.content.filter((item) => item.type === "resource_link");
    expect(links).toHaveLength(2);
    for (const [index, link] of links.entries()) {
      const bytes = readFileSync(fileURLToPath(link.uri as string));
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(made?.outputs[index]?.sha256);
    }

    const video = await mcp.call("video", { prompt: "waves at dusk" });
    expect(video.isError, textOf(video)).toBeFalsy();
    const clip = JSON.parse(textOf(video)) as { taskId: string; model: string };
    expect(clip.model).toMatch(/^doubao-seedance-/);
    const files = await mcp.expectFilesFromEmulator(video, clip.taskId);
    expect(files[0]).toMatch(/\.mp4$/);
  });
});
