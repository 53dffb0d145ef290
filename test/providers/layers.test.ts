import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../../src");
/** The layers above the providers, which the providers and everything below them must not import. */
const ABOVE = ["cli", "mcp", "server", "queue", "batch", "tasks", "media"];

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("layers", () => {
  it("providers/, signing/ and http/ import nothing from the layers above them", async () => {
    const offenders: string[] = [];
    for (const layer of ["providers", "signing", "http"]) {
      for (const file of await sources(join(SRC, layer))) {
        const text = await readFile(file, "utf8");
        for (const match of text.matchAll(/from "(\.[^"]+)"|import\("(\.[^"]+)"\)/g)) {
          const target = relative(SRC, join(file, "..", match[1] ?? match[2] ?? ""));
          if (ABOVE.includes(target.split("/")[0] ?? ""))
            offenders.push(`${relative(SRC, file)} → ${target}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
