/**
 * `jimeng --provider session mcp --emulator --inline-max 1kb`: the tools follow the session provider's
 * capability records, and images over the inline cap come back as links only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_MODELS } from "../../src/providers/session/catalog.js";
import { McpHarness, textOf } from "./mcp-harness.js";

let mcp: McpHarness;

beforeAll(async () => {
  mcp = await McpHarness.start(["--provider", "session"], ["--inline-max", "1kb"]);
});

afterAll(async () => {
  await mcp?.close();
});

describe("jimeng mcp on the session provider", () => {
  it("offers the session models and their options", async () => {
    const { tools } = await mcp.client.listTools();
    const generate = tools.find((tool) => tool.name === "generate");
    const properties = generate?.inputSchema.properties as Record<string, { enum?: string[] }>;
    const models = SESSION_MODELS.filter((model) => model.kinds.includes("generate"));
    expect(properties.model?.enum?.sort()).toEqual(
      [...new Set(models.flatMap((model) => [model.id, ...model.aliases]))].sort(),
    );
    expect(Object.keys(properties)).toContain("negative");
    expect(Object.keys(properties)).not.toContain("size");
    expect(new Set(properties.resolution?.enum)).toEqual(
      new Set(models.flatMap((model) => model.resolutions ?? [])),
    );
  });

  it("generate saves the files and keeps images over the inline cap as links only", async () => {
    const result = await mcp.call("generate", {
      prompt: "a lighthouse at dawn",
      negative: "blur",
      resolution: "2k",
      count: 2,
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    const summary = JSON.parse(textOf(result)) as { taskId: string; provider: string };
    expect(summary.provider).toBe("session");
    const files = await mcp.expectFilesFromEmulator(result, summary.taskId);
    expect(files).toHaveLength(2);
    expect(result.content.filter((item) => item.type === "image")).toEqual([]);
  });
});
