/**
 * The README's generation options table is generated: it must equal `renderOptionsTable` over the three registries.
 * Fails until the "Command line" section (with the table) is in README.md. Print the current table with:
 *   npx tsx -e 'import("./src/cli/generation-options.ts").then(async (o) => { const v = await import("./src/providers/visual/models.ts"); const s = await import("./src/providers/session/models.ts"); const a = await import("./src/providers/ark/models.ts"); console.log(o.renderOptionsTable([...v.VISUAL_MODELS, ...s.SESSION_MODELS, ...a.ARK_MODELS])) })'
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderOptionsTable } from "../../src/cli/generation-options.js";
import { ARK_MODELS } from "../../src/providers/ark/catalog.js";
import { SESSION_MODELS } from "../../src/providers/session/catalog.js";
import { VISUAL_MODELS } from "../../src/providers/visual/catalog.js";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README options table", () => {
  it("is the table the flag declarations and model registries render", () => {
    const table = renderOptionsTable([...VISUAL_MODELS, ...SESSION_MODELS, ...ARK_MODELS]);
    const start = README.indexOf(table.split("\n")[0] as string);
    expect(
      start,
      "README.md has no generation options table; paste the Command line section",
    ).toBeGreaterThan(-1);
    const lines = README.slice(start).split("\n");
    const end = lines.findIndex((line) => !line.startsWith("|"));
    expect(lines.slice(0, end === -1 ? undefined : end).join("\n")).toBe(table);
  });
});
