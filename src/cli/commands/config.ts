/**
 * `jimeng config <set|get|unset|list|path>`: the config store. Credentials are never printed whole: `get` and
 * `list` show them masked, and `set <key> -` reads a value from stdin so that it stays out of shell history.
 */
import { ValidationError } from "../../errors.js";
import type { CommandCall, CommandContext } from "../command-types.js";
import {
  CONFIG_KEYS,
  type ConfigKey,
  type ConfigStore,
  displayValue,
  MASKED_KEYS,
  openConfigStore,
  parseConfigKey,
  parseConfigValue,
  resolveSettings,
  type Setting,
  type SettingSource,
  type Settings,
  secretsOf,
} from "../config.js";
import { EXIT } from "../exit-codes.js";

export interface SettingRow {
  key: ConfigKey;
  /** Masked for credentials; null when not set anywhere. */
  value: string | null;
  source: SettingSource | "unset";
}

function settingOf(settings: Settings, key: ConfigKey): Setting<string> | undefined {
  return settings[key];
}

function rowOf(settings: Settings, key: ConfigKey): SettingRow {
  const setting = settingOf(settings, key);
  if (!setting) return { key, value: null, source: "unset" };
  return { key, value: displayValue(key, setting.value), source: setting.source };
}

function settingsOf(context: CommandContext, store: ConfigStore): Settings {
  const settings = resolveSettings({
    flags: {
      ...(context.globals.provider ? { provider: context.globals.provider } : {}),
      emulator: context.globals.emulator,
    },
    env: context.env,
    store: store.read(),
  });
  context.output.secrets.add(...secretsOf(settings));
  return settings;
}

/** One line from stdin (or all of it, up to the first newline), trimmed. */
function readLine(stdin: NonNullable<CommandContext["io"]["stdin"]>): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const cleanup = () => {
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      stdin.off("error", onError);
      stdin.pause();
    };
    const finish = (value: string) => {
      cleanup();
      resolve(value.trim());
    };
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      const newline = text.indexOf("\n");
      if (newline >= 0) finish(text.slice(0, newline));
    };
    const onEnd = () => finish(text);
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    stdin.on("data", onData);
    stdin.once("end", onEnd);
    stdin.once("error", onError);
    stdin.resume();
  });
}

async function valueFromArgs(context: CommandContext, key: ConfigKey, raw: string): Promise<string> {
  if (raw !== "-") {
    if (MASKED_KEYS.has(key) && key !== "accessKeyId") {
      context.output.info(
        `note: a ${key} given on the command line stays in your shell history; next time use \`jimeng config set ${key} -\` and pipe it in`,
      );
    }
    return raw;
  }
  const stdin = context.io.stdin;
  if (!stdin) throw new ValidationError([{ path: "value", message: "no stdin to read the value from" }]);
  if (stdin.isTTY) context.output.info(`Enter the ${key}, then press Enter:`);
  const value = await readLine(stdin);
  if (value === "") throw new ValidationError([{ path: key, message: "stdin held no value" }]);
  return value;
}

async function set(context: CommandContext, store: ConfigStore, call: CommandCall): Promise<number> {
  const key = parseConfigKey(String(call.args[0]));
  const raw = await valueFromArgs(context, key, String(call.args[1]));
  if (MASKED_KEYS.has(key)) context.output.secrets.add(raw.trim());
  const value = parseConfigValue(key, raw);
  await store.set(key, value);
  const shown = displayValue(key, value);
  if (context.output.mode.json) context.output.json({ key, value: shown, path: store.path });
  context.output.progress.succeed(`${key} = ${shown} (saved in ${store.path})`);
  return EXIT.ok;
}

async function get(context: CommandContext, store: ConfigStore, call: CommandCall): Promise<number> {
  const key = parseConfigKey(String(call.args[0]));
  const row = rowOf(settingsOf(context, store), key);
  context.output.result(row, () => row.value ?? "");
  if (row.value === null) context.output.info(`${key} is not set`);
  else context.output.verbose(`from ${row.source}`);
  return EXIT.ok;
}

async function unset(context: CommandContext, store: ConfigStore, call: CommandCall): Promise<number> {
  const key = parseConfigKey(String(call.args[0]));
  const removed = await store.unset(key);
  if (context.output.mode.json) context.output.json({ key, removed, path: store.path });
  if (removed) context.output.progress.succeed(`${key} removed from ${store.path}`);
  else context.output.info(`${key} was not set in ${store.path}`);
  return EXIT.ok;
}

function table(rows: readonly SettingRow[]): string {
  const cells = rows.map((row) => [row.key, row.value ?? "—", row.value === null ? "" : row.source]);
  const header = ["KEY", "VALUE", "SOURCE"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((cell) => (cell[column] as string).length)),
  );
  const line = (cell: string[]) =>
    cell
      .map((value, column) => value.padEnd(widths[column] as number))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...cells.map(line)].join("\n")}\n`;
}

async function list(context: CommandContext, store: ConfigStore): Promise<number> {
  const settings = settingsOf(context, store);
  const rows = CONFIG_KEYS.map((key) => rowOf(settings, key));
  const document = {
    path: store.path,
    settings: Object.fromEntries(rows.map((row) => [row.key, { value: row.value, source: row.source }])),
  };
  context.output.result(document, () => table(rows));
  if (!context.output.mode.json)
    context.output.info(context.output.errStyle.dim(`config file: ${store.path}`));
  return EXIT.ok;
}

export async function run(context: CommandContext, call: CommandCall): Promise<number> {
  const store = openConfigStore(context.env);
  switch (call.path[1]) {
    case "set":
      return set(context, store, call);
    case "get":
      return get(context, store, call);
    case "unset":
      return unset(context, store, call);
    case "list":
      return list(context, store);
    case "path":
      context.output.result({ path: store.path }, () => store.path);
      return EXIT.ok;
    default:
      throw new Error(`jimeng: unknown config subcommand ${call.path.join(" ")}`);
  }
}
