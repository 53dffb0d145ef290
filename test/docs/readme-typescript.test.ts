/**
 * Every ```ts block of the README compiles: each block is a module of one program, type-checked with the
 * project's strict settings against the package's public API as published (every entry of package.json's
 * `exports` resolves to its built dist/*.d.ts: `npm test` builds first). One deliberately broken block rides along, so the check can fail.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const readme = readFileSync(join(repo, "README.md"), "utf8");

interface Block {
  /** The README line of the block's first line of code. */
  line: number;
  code: string;
}

/** Pure: the README's ```ts blocks with where they start. */

/** `jimeng` and each `jimeng/<subpath>` mapped to the types file package.json's `exports` publishes. */
function publishedTypePaths(): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
    exports: Record<string, string | { types?: string }>;
  };
  const paths: Record<string, string[]> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === "string" || target.types === undefined) continue;
    paths[subpath === "." ? "jimeng" : `jimeng/${subpath.slice(2)}`] = [join(repo, target.types)];
  }
  return paths;
}

function typescriptBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== "```ts") continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]?.trim() !== "```") end++;
    blocks.push({ line: start + 1, code: lines.slice(start, end).join("\n") });
    i = end;
  }
  return blocks;
}

const dir = mkdtempSync(join(tmpdir(), "jimeng-readme-ts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The compiler's complaints about every block, as `README.md:<line>: <message>`. */
function diagnostics(blocks: readonly Block[]): string[] {
  const files = new Map<string, Block>();
  for (const block of blocks) {
    const file = join(dir, `readme-line-${block.line}.mts`);
    writeFileSync(file, `${block.code}\nexport {};\n`);
    files.set(file, block);
  }
  const program = ts.createProgram([...files.keys()], {
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts"],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    noEmit: true,
    types: ["node"],
    typeRoots: [join(repo, "node_modules", "@types")],
    paths: publishedTypePaths(),
  });
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
    const block = diagnostic.file ? files.get(diagnostic.file.fileName) : undefined;
    if (!diagnostic.file || diagnostic.start === undefined) return message;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const where = block ? `README.md:${block.line + line}` : `${diagnostic.file.fileName}:${line + 1}`;
    return `${where}: TS${diagnostic.code} ${message}`;
  });
}

describe("README TypeScript", () => {
  it("finds the blocks", () => {
    expect(typescriptBlocks("a\n```ts\nconst x = 1;\n```\n```sh\nls\n```\n")).toEqual([
      { line: 3, code: "const x = 1;" },
    ]);
  });

  it("every ```ts block compiles against the public API (and a broken one does not)", () => {
    const blocks = typescriptBlocks(readme);
    expect(blocks.length).toBeGreaterThan(5);
    const broken = { line: 100_000, code: 'import { Jimeng } from "jimeng";\nJimeng.nope();' };
    expect(diagnostics([...blocks, broken])).toEqual([expect.stringMatching(/^README\.md:100001: TS2339 /)]);
  });
});
