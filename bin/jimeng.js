#!/usr/bin/env node
// The only place that exits: check Node first (one clear line if too old), then run the built CLI.
const [major, minor, patch] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && (minor < 18 || (minor === 18 && patch < 1)))) {
  process.stderr.write(
    `jimeng needs Node.js 20.18.1 or newer; this is Node.js ${process.versions.node}. Install a current LTS from https://nodejs.org.\n`,
  );
  process.exit(1);
}
const { main } = await import("../dist/cli/main.js");
process.exitCode = await main(process.argv.slice(2));
