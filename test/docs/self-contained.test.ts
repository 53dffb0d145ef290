import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { scanForOutsidePaths } from "./self-contained.js";

/**
 * The repository stands alone: a fresh clone anywhere runs every test, script and example. Nothing it
 * tracks may name this machine's absolute paths or reach a folder beside the clone.
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCANNED = ["src", "test", "bin", "examples", ".ci", "README.md"];

function trackedFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "-z", "--", ...SCANNED], { cwd: ROOT, encoding: "utf8" });
  return out.split("\0").filter((file) => file.length > 0);
}

describe("the repository is self-contained", () => {
  it("no tracked source, test, example, CI script or README names a path outside the clone", () => {
    const files = trackedFiles();
    expect(files.length).toBeGreaterThan(50);
    const findings = files.flatMap((file) =>
      scanForOutsidePaths(file, readFileSync(join(ROOT, file), "utf8"), ROOT),
    );
    expect(findings).toEqual([]);
  });

  it("the scan catches machine paths and escapes to real folders, and lets the rest through", () => {
    const root = "/srv/checkouts/jimeng";
    const besideTheClone = new Set(["/srv/checkouts/shared/specs/cli.md", "/srv/checkouts/shared"]);
    const exists = (path: string) => besideTheClone.has(path);
    const source = [
      `readFileSync("/srv/checkouts/shared/test-vectors/v.json")`,
      `import spec from "${"../".repeat(3)}shared/specs/cli.md";`,
      `const cache = "${"/"}root/.npm/_cacache";`,
      'new URL("../fixtures/volc-sign-vectors.json", import.meta.url)',
      'import { run } from "../../src/cli/main.js";',
      `const hostile = "${"../".repeat(5)}victim/escape";`,
    ].join("\n");
    const script = ['cd "$(dirname "$0")/.."', `cp -r ${"../"}shared .`, "node .ci/fill-lock.mjs"].join("\n");
    const lines = (file: string, text: string) =>
      scanForOutsidePaths(file, text, root, exists).map((finding) => finding.line);
    expect(lines("test/signing/vectors.test.ts", source)).toEqual([1, 2, 3]);
    expect(lines(".ci/run", script)).toEqual([2]);
  });
});
