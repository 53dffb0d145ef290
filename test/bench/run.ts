/**
 * `npm run bench`: runs every benchmark in this folder against the emulator and prints one table
 * (`--json` for a JSON document, `--quick` for the smoke mode). Benchmarks print numbers; they never fail
 * on a slow machine.
 */
import { cpus } from "node:os";
import type { Bench, BenchFigure } from "./types.js";

const SUITES = [
  "signer",
  "coldstart",
  "polling",
  "batch",
  "memory",
  "batch-memory",
  "download",
  "serve",
  "redis",
] as const;

async function load(name: string): Promise<Bench | undefined> {
  try {
    const module = (await import(`./${name}.ts`)) as { run?: Bench };
    return module.run;
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND") return undefined;
    throw error;
  }
}

function format(figure: BenchFigure): string[] {
  const value = `${figure.value} ${figure.unit}`;
  const baseline = figure.baseline ? `${figure.baseline.value} ${figure.unit} (${figure.baseline.name})` : "";
  const ratio = figure.ratio !== undefined ? `${figure.ratio}×` : "";
  const target = figure.target
    ? `${figure.target} ${figure.met === undefined ? "" : figure.met ? "✓" : "✗"}`
    : "";
  return [figure.suite, figure.name, value, baseline, ratio, target.trim(), figure.note ?? ""];
}

function table(rows: string[][]): string {
  const header = ["suite", "figure", "value", "baseline", "ratio", "target", "note"];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  return all
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] as number))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const quick = process.argv.includes("--quick");
  const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice("--only=".length);
  const context = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown", quick };
  const figures: BenchFigure[] = [];
  const skipped: string[] = [];
  for (const name of SUITES) {
    if (only && !only.split(",").includes(name)) continue;
    const bench = await load(name);
    if (!bench) {
      skipped.push(name);
      continue;
    }
    if (!json) process.stderr.write(`running ${name}…\n`);
    figures.push(...(await bench({ quick })));
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ context, figures, skipped }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `Node ${context.node} · ${context.cpus} CPUs · ${context.cpu}${quick ? " · quick mode" : ""}\n\n`,
  );
  process.stdout.write(`${table(figures.map(format))}\n`);
  if (skipped.length) process.stdout.write(`\nnot present: ${skipped.join(", ")}\n`);
}

await main();
