import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/jimeng.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "jimeng-shim-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the bin with `process.versions.node` replaced, as an older Node would report it. */
function runAs(version: string, args: string[]) {
  const preload = join(dir, `node-${version}.mjs`);
  writeFileSync(
    preload,
    `Object.defineProperty(process.versions, "node", { value: ${JSON.stringify(version)} });\n`,
  );
  return spawnSync(process.execPath, ["--import", preload, BIN, ...args], { encoding: "utf8" });
}

describe("bin/jimeng.js", () => {
  it("refuses an old Node with one clear line and exit code 1", () => {
    const result = runAs("18.19.0", ["--version"]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("jimeng needs Node.js 20.18.1 or newer; this is Node.js 18.19.0");
  });

  it("refuses Node 20 before 20.18.1", () => {
    expect(runAs("20.10.0", ["--version"]).status).toBe(1);
    expect(runAs("20.18.0", ["--version"]).status).toBe(1);
  });

  it("runs on a supported Node and sets the exit code from main()", () => {
    expect(runAs("20.18.1", ["--version"]).status).toBe(0);
    const usage = runAs("22.0.0", ["--definitely-not-a-flag"]);
    expect(usage.status).toBe(2);
  });

  it.for([["--help"], ["models"]])(
    "ends quietly with exit 0 when its reader goes away (jimeng %s | head -1)",
    async (args) => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      // The reading end closes before the CLI writes anything: every write to stdout fails with EPIPE.
      child.stdout.destroy();
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
      });
      const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
      expect(stderr).toBe("");
      expect(code).toBe(0);
    },
  );
});
