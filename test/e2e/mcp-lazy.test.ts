/**
 * The MCP SDK is loaded only by `jimeng mcp`: neither the library entry nor the CLI's entry reaches it
 * through static imports (the built files, following every `import ... from` between chunks).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const DIST = fileURLToPath(new URL("../../dist/", import.meta.url));
const STATIC_IMPORT = /^import\s+(?:[^;]*?\s+from\s+)?["']([^"']+)["']/gm;

/** Every module specifier reachable from `entry` through static imports (relative ones followed). */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const files = [entry];
  while (files.length > 0) {
    const file = files.pop() as string;
    for (const match of readFileSync(file, "utf8").matchAll(STATIC_IMPORT)) {
      const specifier = match[1] as string;
      if (!specifier.startsWith(".")) {
        seen.add(specifier);
        continue;
      }
      const target = join(dirname(file), specifier);
      if (!seen.has(target)) {
        seen.add(target);
        files.push(target);
      }
    }
  }
  return seen;
}

const SDK = "@modelcontextprotocol/";

describe("the MCP SDK stays out of the other entry points", () => {
  it.for(["index.js", "emulator.js", "cli/main.js"])(
    "dist/%s does not reach it through static imports",
    (entry) => {
      const file = join(DIST, entry);
      if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
      const graph = [...staticGraph(file)];
      expect(graph.length).toBeGreaterThan(0);
      expect(graph.filter((specifier) => specifier.includes(SDK))).toEqual([]);
      const local = graph.filter((specifier) => specifier.startsWith(DIST));
      expect(local.filter((chunk) => readFileSync(chunk, "utf8").includes(SDK))).toEqual([]);
    },
  );

  it("the build does contain it, in the chunks of the mcp command", () => {
    // The command table's lazy loaders live in main.js or in a chunk it imports statically.
    const entry = join(DIST, "cli/main.js");
    const loaders = [entry, ...staticGraph(entry)].filter((file) => file.startsWith(DIST));
    const mcp = loaders
      .map((file) => {
        const specifier = /import\(['"](\.\.?\/mcp-[^'"]+)['"]\)/.exec(readFileSync(file, "utf8"))?.[1];
        return specifier === undefined ? undefined : join(dirname(file), specifier);
      })
      .find((file) => file !== undefined);
    expect(mcp).toBeDefined();
    const reached = [...staticGraph(mcp as string)].filter((file) => file.startsWith(DIST));
    const text = [mcp as string, ...reached].map((file) => readFileSync(file, "utf8")).join("\n");
    expect(text).toContain(SDK);
  });
});
