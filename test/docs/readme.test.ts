import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderModelsTable } from "./models-table.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const ciScript = readFileSync(new URL("../../.ci/run", import.meta.url), "utf8");

function between(start: string, end: string): string {
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < 0) throw new Error(`README lacks the ${start} … ${end} markers`);
  return readme.slice(from + start.length, to).trim();
}

describe("README", () => {
  it("starts with the two commands for a fresh machine", () => {
    const firstLines = readme.split("\n").slice(0, 6).join("\n");
    expect(firstLines).toContain("npm ci && npm run demo");
    expect(firstLines).toContain("npm ci && npm test");
  });

  it("gives the test command CI runs", () => {
    expect(ciScript).toMatch(/^npm test$/m);
    expect(readme).toContain("npm test");
  });

  it("has the models table the registries produce (npm run docs:models)", () => {
    expect(between("<!-- models:start -->", "<!-- models:end -->")).toBe(renderModelsTable());
  });
});
