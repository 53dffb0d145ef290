import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseByteSize } from "../../src/cli/mcp-options.js";
import { ValidationError } from "../../src/errors.js";
import { isInside, Sandbox } from "../../src/mcp/sandbox.js";

let root: string;
let sandbox: Sandbox;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "jimeng-mcp-sandbox-"));
  for (const dir of ["out", "pictures", "secret"]) mkdirSync(join(root, dir));
  writeFileSync(join(root, "pictures", "cat.png"), "png");
  writeFileSync(join(root, "secret", "key.png"), "png");
  symlinkSync(join(root, "secret", "key.png"), join(root, "pictures", "link.png"));
  sandbox = new Sandbox({ out: join(root, "out"), inputDirs: [join(root, "pictures")], cwd: root });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function refusal(reference: string, field: string): Promise<ValidationError> {
  const error = await sandbox.input(reference, field).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

describe("the MCP sandbox", () => {
  it("isInside is about path segments, not string prefixes", () => {
    expect(isInside("/a/out", "/a/out")).toBe(true);
    expect(isInside("/a/out", "/a/out/x/y.png")).toBe(true);
    expect(isInside("/a/out", "/a/output/y.png")).toBe(false);
    expect(isInside("/a/out", "/a/out/../b")).toBe(false);
  });

  it("reads local files from the allowed folders and the output folder, and URLs", async () => {
    expect(await sandbox.input("pictures/cat.png", "images.0")).toBe(join(root, "pictures", "cat.png"));
    expect(await sandbox.input(join(root, "out", "new.png"), "images.0")).toBe(join(root, "out", "new.png"));
    expect(await sandbox.input("https://example.com/a.png", "images.0")).toBe("https://example.com/a.png");
    expect(await sandbox.input("data:image/png;base64,AAAA", "images.0")).toMatch(/^data:/);
  });

  it("refuses other folders, climbing out and symlinks that lead out, naming the field", async () => {
    expect((await refusal("secret/key.png", "images.1")).issues[0]?.path).toBe("images.1");
    expect((await refusal("pictures/../secret/key.png", "images.0")).issues[0]?.path).toBe("images.0");
    expect((await refusal("pictures/link.png", "file")).issues[0]?.path).toBe("file");
    expect((await refusal("/etc/passwd", "images.0")).issues[0]?.message).toMatch(/--allow-dir/);
  });

  it("output folders stay inside the output folder", () => {
    expect(sandbox.outputFolder("batches", "run-1")).toBe(join(root, "out", "batches", "run-1"));
    expect(() => sandbox.outputFolder("..", "elsewhere")).toThrow(ValidationError);
  });

  it("--inline-max takes sizes with units and refuses the rest naming the flag", () => {
    expect(parseByteSize("0", "--inline-max")).toBe(0);
    expect(parseByteSize("256kb", "--inline-max")).toBe(262_144);
    expect(parseByteSize("1MB", "--inline-max")).toBe(1_048_576);
    expect(() => parseByteSize("lots", "--inline-max")).toThrow(/--inline-max|lots/);
  });
});
