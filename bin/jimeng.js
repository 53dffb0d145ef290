#!/usr/bin/env node
// The only place that exits: check Node first (one clear line if too old), then run the built CLI.
const [major, minor, patch] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && (minor < 18 || (minor === 18 && patch < 1)))) {
  process.stderr.write(
    `jimeng needs Node.js 20.18.1 or newer; this is Node.js ${process.versions.node}. Install a current LTS from https://nodejs.org.\n`,
  );
  process.exit(1);
}
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  // Scripts call `jimeng --version` to probe for the tool: answer without loading the CLI at all.
  const { readFileSync } = await import("node:fs");
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  process.stdout.write(`${version}\n`);
} else {
  const { main } = await import("../dist/cli/main.js");
  process.exitCode = await main(args);
}
