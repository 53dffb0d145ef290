import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const DIST = fileURLToPath(new URL("../../dist/", import.meta.url));
const HEAVY = ["fastify", "@fastify/multipart", "better-sqlite3"];

/** Every module `entry` loads when imported: its static imports, followed through dist/ (dynamic imports are not). */
async function staticGraph(entry: string): Promise<{ files: Set<string>; packages: Set<string> }> {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = async (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = await readFile(file, "utf8");
    for (const match of text.matchAll(
      /(?:^|[;\n}])\s*(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|(?:^|[;\n])\s*import\s*["']([^"']+)["']/g,
    )) {
      const target = match[1] ?? match[2] ?? "";
      if (target.startsWith(".")) await visit(path.resolve(path.dirname(file), target));
      else packages.add(target);
    }
  };
  await visit(path.join(DIST, entry));
  return { files, packages };
}

describe("the package entries (built dist/)", () => {
  it('`import "jimeng"` loads neither fastify nor SQLite; `jimeng/server` is where they live', async () => {
    const main = await staticGraph("index.js");
    for (const name of HEAVY) expect(main.packages.has(name), name).toBe(false);
    const server = await staticGraph("server.js");
    const sources = await Promise.all([...server.files].map((file) => readFile(file, "utf8")));
    const text = sources.join("\n");
    expect(text).toMatch(/import\(["']fastify["']\)/);
    expect(text).toMatch(/require\d*\(["']better-sqlite3["']\)/);
  });
});
