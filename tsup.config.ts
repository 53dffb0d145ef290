import { cp } from "node:fs/promises";
import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    emulator: "src/emulator/index.ts",
    "cli/main": "src/cli/main.ts",
    server: "src/server/index.ts",
  },
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: { entry: { index: "src/index.ts", emulator: "src/emulator/index.ts", server: "src/server/index.ts" } },
  // Each CLI command is a dynamic import, so splitting gives every command its own chunk
  // and keeps `jimeng --version` from loading the SDK.
  splitting: true,
  treeshake: true,
  clean: true,
  sourcemap: false,
  removeNodeProtocol: false,
  outDir: "dist",
  // The web page of `jimeng serve`: static files, served from dist/page/ next to the server chunk.
  onSuccess: async () => {
    await cp("src/server/page", "dist/page", { recursive: true });
  },
});
