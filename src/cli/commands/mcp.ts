/**
 * `jimeng mcp`: the MCP server on stdio (src/mcp/). Settings, credentials and `--emulator` resolve as for every
 * command; stdout carries only protocol messages (everything else, console output included, goes to stderr).
 * Serves until the client closes stdin, or Ctrl-C / SIGTERM. The MCP SDK is loaded only here.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { CommandCall, CommandContext } from "../command-types.js";
import { EXIT } from "../exit-codes.js";
import { parseByteSize } from "../mcp-options.js";
import { openClient, remember } from "../open-client.js";
import { pollIntervalCap } from "../settings.js";
import { openTaskIndex } from "../task-index.js";

/** Keeps stray console output of any library off stdout, which belongs to the protocol. */
function consoleToStderr(): () => void {
  const saved = { log: console.log, info: console.info, debug: console.debug };
  const toStderr = (...args: unknown[]) => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  return () => Object.assign(console, saved);
}

export async function run(context: CommandContext, call: CommandCall): Promise<number> {
  const { output } = context;
  const { options } = call;
  const inlineMaxBytes =
    typeof options.inlineMax === "number"
      ? options.inlineMax
      : parseByteSize(String(options.inlineMax ?? "256kb"), "--inline-max");
  const allowDirs = Array.isArray(options.allowDir) ? (options.allowDir as string[]) : [];
  const restoreConsole = consoleToStderr();
  const client = await openClient(context, options);
  const log = (line: string) => output.stderrLine(output.scrub(`jimeng mcp: ${line}`));
  try {
    const { jimeng, prepared } = client;
    const [{ createJimengMcpServer }, { Sandbox }, { BatchRuns }, { StdioServerTransport }, { Jimeng }] =
      await Promise.all([
        import("../../mcp/server.js"),
        import("../../mcp/sandbox.js"),
        import("../../mcp/batch.js"),
        import("@modelcontextprotocol/server/stdio"),
        import("../../tasks/client.js"),
      ]);
    const out = path.resolve(prepared.settings.outDir.value);
    await mkdir(out, { recursive: true });
    const sandbox = new Sandbox({ out, inputDirs: allowDirs.map((dir) => path.resolve(dir)) });
    const maxPollIntervalMs = pollIntervalCap(context.env, prepared.settings.emulator);
    const batches = new BatchRuns({
      provider: jimeng.provider,
      sandbox,
      jimeng: (provider) =>
        new Jimeng({ provider, ...(maxPollIntervalMs !== undefined ? { maxPollIntervalMs } : {}) }),
      log,
    });
    const index = openTaskIndex(context.env);
    const server = createJimengMcpServer({
      jimeng,
      sandbox,
      inlineMaxBytes,
      scrub: (text) => output.scrub(text),
      log,
      remember: ({ ref, prompt }) => remember(context, ref, prompt),
      lookup: async (taskId) => {
        const entry = await index.find(taskId).catch(() => undefined);
        if (!entry) return undefined;
        const { prompt, ...ref } = entry;
        return prompt === undefined ? { ref } : { ref, prompt };
      },
      batches,
    });

    const transport = new StdioServerTransport();
    const closed = new Promise<void>((resolve) => {
      transport.onclose = resolve;
      context.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await server.connect(transport);
    log(
      `serving on stdio: provider ${jimeng.provider.name}${prepared.emulatorUrl ? ` (emulator at ${prepared.emulatorUrl})` : ""}, output folder ${out}, inputs from ${sandbox.inputDirs.join(", ")}`,
    );
    await closed;
    await batches.close();
    await server.close().catch(() => undefined);
    return EXIT.ok;
  } finally {
    restoreConsole();
    await client.close();
  }
}
