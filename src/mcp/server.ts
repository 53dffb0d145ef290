/**
 * The `jimeng mcp` server: the SDK's generation, task and batch functions as MCP tools. Every tool's input
 * schema comes from the provider's capability records (src/mcp/schemas.ts); every argument is checked before
 * anything is sent; files land only in the sandbox's output folder; every text passes the scrubber.
 */
import { McpServer } from "@modelcontextprotocol/server";
import { VERSION } from "../version.js";
import { registerGenerationTools } from "./generation-tools.js";
import { registerTaskTools } from "./task-tools.js";
import { type JimengMcpOptions, ToolKit } from "./toolkit.js";

export type { JimengMcpOptions, KnownTask } from "./toolkit.js";

export function createJimengMcpServer(options: JimengMcpOptions): McpServer {
  const kit = new ToolKit(options);
  const server = new McpServer(
    { name: "jimeng", version: VERSION },
    {
      instructions: `Image and video generation with Volcengine Jimeng (provider: ${kit.providerName}). Every generate, compose, video, submit and batch call costs money (or credits); result, cancel and models are free. Files are saved under ${kit.sandbox.out}.`,
    },
  );
  registerGenerationTools(server, kit);
  registerTaskTools(server, kit);
  options.batches?.register(server, kit);
  return server;
}
