import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };

/**
 * Installs the packed tarball into a temp project as a user would get it. `--prefer-offline` uses the cache
 * where it can and the registry for the rest: `npm ci` fills the cache with tarballs but not with the
 * registry metadata an `npm install` needs, so `--offline` only worked on machines with a warm cache.
 */
describe("the packed package", () => {
  let dir: string;
  let files: string[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "jimeng-pack-"));
    const packed = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8" }),
    ) as { filename: string; files: { path: string }[] }[];
    const tarball = packed[0];
    if (!tarball) throw new Error("npm pack produced nothing");
    files = tarball.files.map((f) => f.path).sort();
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    execFileSync(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", join(dir, tarball.filename)],
      {
        cwd: dir,
        stdio: "pipe",
      },
    );
  }, 180_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("ships only the build, the bin and the docs", () => {
    for (const file of files) {
      expect(file).toMatch(
        /^(dist\/.+\.(js|d\.ts)|dist\/page\/(index\.html|app\.css)|bin\/jimeng\.js|package\.json|README\.md|LICENSE|CHANGELOG\.md)$/,
      );
    }
    // The web page of `jimeng serve`: its files are in the package, so it works offline.
    expect(files).toEqual(
      expect.arrayContaining(["dist/page/index.html", "dist/page/app.js", "dist/page/app.css"]),
    );
    expect(files).toContain("bin/jimeng.js");
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.d.ts");
    expect(files.some((f) => f.startsWith("src/") || f.startsWith("test/") || f.endsWith(".map"))).toBe(
      false,
    );
  });

  it("runs `npx jimeng --version`", () => {
    const out = execFileSync("npx", ["--offline", "jimeng", "--version"], { cwd: dir, encoding: "utf8" });
    expect(out.trim()).toBe(pkg.version);
  });

  it("runs `npx jimeng generate --emulator --json` and saves the file it reports", () => {
    const out = execFileSync(
      "npx",
      ["--offline", "jimeng", "generate", "a test", "--emulator", "--json", "-o", "out"],
      {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, JIMENG_CONFIG_DIR: join(dir, "config"), CI: "1" },
      },
    );
    const document = JSON.parse(out) as {
      status: string;
      provider: string;
      outputs: { file: string; bytes: number; sha256: string }[];
    };
    expect(document.status).toBe("succeeded");
    expect(document.outputs.length).toBeGreaterThan(0);
    for (const output of document.outputs) {
      const bytes = readFileSync(output.file);
      expect(bytes.length).toBe(output.bytes);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(output.sha256);
      expect(bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
    }
  });

  it("imports the SDK as ESM", () => {
    const script =
      'import * as sdk from "jimeng"; console.log(JSON.stringify({ version: sdk.VERSION, error: typeof sdk.JimengError }));';
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toEqual({ version: pkg.version, error: "function" });
  });
});
