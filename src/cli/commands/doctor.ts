/**
 * `jimeng doctor`: a checklist of what a run needs — the Node version, the config file and its permissions,
 * the settings, and for each configured provider its endpoint and credentials, probed with a real signed (or
 * authorised) request that costs nothing:
 *
 * - visual: GetResult for a made-up task id. A gateway auth error means the signature was rejected; a
 *   business answer (a status, or 50215 "invalid input") means it was accepted; 50400 means accepted but the
 *   service is not enabled for the key.
 * - session: `token.check` (is each session alive?) and `token.points` (credits).
 * - ark: list one video task (free). 401 means the key was rejected; an answer means it was accepted.
 *
 * Every failure comes with a fix. Exit 3 when configuration or credentials are wrong, 1 when something else
 * failed (an endpoint unreachable), 0 otherwise. `--json`: `{ ok, checks: [{ name, status, detail, fix? }] }`.
 */
import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import {
  ApiError,
  AuthError,
  JimengError,
  NetworkError,
  PROVIDER_NAMES,
  type ProviderName,
  RateLimitError,
  RequestTimeoutError,
  TimeoutError,
} from "../../errors.js";
import type { CommandCall, CommandContext } from "../command-types.js";
import {
  configFilePath,
  type ProviderConfig,
  providerConfig,
  readConfigFile,
  resolveSettings,
  type Settings,
  secretsOf,
  withEmulator,
} from "../config.js";
import { EXIT } from "../exit-codes.js";
import type { Output } from "../output.js";

export type CheckStatus = "ok" | "warn" | "fail" | "skip";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
  /** What a failure means for the exit code: config/auth → 3, otherwise 1. */
  area: "config" | "auth" | "network" | "runtime";
}

export interface DoctorDocument {
  ok: boolean;
  checks: { name: string; status: CheckStatus; detail: string; fix?: string }[];
}

/** A task id no one submitted: 19 digits, like the real ones. */
const PROBE_TASK_ID = "7000000000000000001";
const PROBE_REQ_KEY = "jimeng_t2i_v40";
const PROBE_TIMEOUT_MS = 10_000;
const MIN_NODE = [20, 18, 1] as const;

function check(area: Check["area"], name: string, status: CheckStatus, detail: string, fix?: string): Check {
  return { name, status, detail, area, ...(fix ? { fix } : {}) };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Pure: the Node version check. */
export function nodeCheck(version: string): Check {
  const parts = version.replace(/^v/, "").split(".").map(Number);
  let ok = true;
  for (let i = 0; i < 3; i++) {
    const have = parts[i] ?? 0;
    const need = MIN_NODE[i] as number;
    if (have !== need) {
      ok = have > need;
      break;
    }
  }
  return ok
    ? check("runtime", "node", "ok", `Node.js ${version} (needs ${MIN_NODE.join(".")} or newer)`)
    : check(
        "runtime",
        "node",
        "fail",
        `Node.js ${version} is too old (needs ${MIN_NODE.join(".")} or newer)`,
        "install a current LTS from https://nodejs.org",
      );
}

/** The config file: present or not, its permissions (0600 in a 0700 folder), and whether it parses. */
export function configChecks(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Check[] {
  const path = configFilePath(env);
  const checks: Check[] = [];
  if (!existsSync(path)) {
    return [check("config", "config file", "ok", `none yet at ${path}; settings come from the environment`)];
  }
  if (platform !== "win32") {
    const fileMode = statSync(path).mode & 0o777;
    const dirMode = statSync(dirname(path)).mode & 0o777;
    const octal = (mode: number) => `0${mode.toString(8)}`;
    if (fileMode !== 0o600 || dirMode !== 0o700) {
      checks.push(
        check(
          "config",
          "config permissions",
          "fail",
          `${path} is ${octal(fileMode)} in a ${octal(dirMode)} folder; it holds credentials, so only you should read it`,
          `chmod 600 "${path}" && chmod 700 "${dirname(path)}"`,
        ),
      );
    } else {
      checks.push(check("config", "config permissions", "ok", `${path} is 0600 in a 0700 folder`));
    }
  }
  try {
    readConfigFile(path);
    checks.push(check("config", "config file", "ok", `${path} is valid`));
  } catch (error) {
    checks.push(
      check(
        "config",
        "config file",
        "fail",
        message(error),
        error instanceof JimengError ? error.hint : undefined,
      ),
    );
  }
  return checks;
}

const VISUAL_FIX =
  "check VOLC_ACCESSKEY / VOLC_SECRETKEY (or `jimeng config set accessKeyId …` and `jimeng config set secretAccessKey -`): the pair must belong to one IAM user, with no stray spaces";

/** Pure: what the signed probe's outcome says about the endpoint and the credentials. */
export function judgeVisualProbe(endpoint: string, outcome: { answer?: string; error?: unknown }): Check[] {
  const reach = (status: CheckStatus, detail: string, fix?: string) =>
    check("network", "visual endpoint", status, detail, fix);
  const creds = (status: CheckStatus, detail: string, fix?: string, area: Check["area"] = "auth") =>
    check(area, "visual credentials", status, detail, fix);
  const { error } = outcome;
  if (error === undefined) {
    return [
      reach("ok", `${endpoint} answered`),
      creds("ok", `signature accepted (GetResult for a made-up task: ${outcome.answer ?? "answered"})`),
    ];
  }
  if (error instanceof NetworkError || error instanceof RequestTimeoutError) {
    return [
      reach(
        "fail",
        `${endpoint} unreachable: ${message(error)}`,
        "check the address (JIMENG_VISUAL_ENDPOINT / --endpoint / `jimeng config set visualEndpoint`), your network and proxy",
      ),
      creds("skip", "not probed: the endpoint did not answer"),
    ];
  }
  const requestId = error instanceof ApiError && error.requestId ? ` (request id ${error.requestId})` : "";
  if (error instanceof AuthError) {
    if (typeof error.code === "number") {
      return [
        reach("ok", `${endpoint} answered`),
        creds(
          "fail",
          `signature accepted, but access was denied: ${error.code}${requestId}`,
          error.hint ?? "enable the Jimeng service for this account in the Volcengine console",
        ),
      ];
    }
    return [
      reach("ok", `${endpoint} answered`),
      creds("fail", `signature rejected: ${error.code}${requestId}`, VISUAL_FIX),
    ];
  }
  if (error instanceof RateLimitError) {
    return [
      reach("ok", `${endpoint} answered`),
      creds(
        "warn",
        `signature accepted; the service is throttling this account right now (${error.code})${requestId}`,
      ),
    ];
  }
  if (error instanceof ApiError && typeof error.code === "number") {
    return [
      reach("ok", `${endpoint} answered`),
      creds(
        "ok",
        `signature accepted (GetResult for a made-up task: ${error.code} invalid input${requestId})`,
      ),
    ];
  }
  return [
    reach(
      "fail",
      `${endpoint} answered, but not as the Visual API: ${message(error)}`,
      "check the endpoint address (default https://visual.volcengineapi.com)",
    ),
    creds("skip", "not probed: the endpoint is not the Visual API"),
  ].map((item, index) => (index === 0 ? { ...item, area: "config" as const } : item));
}

async function probeVisual(config: Extract<ProviderConfig, { provider: "visual" }>): Promise<Check[]> {
  const { VisualClient } = await import("../../providers/visual/client.js");
  const client = new VisualClient({
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    ...(config.sessionToken ? { sessionToken: config.sessionToken } : {}),
    endpoint: config.endpoint,
    region: config.region,
    timeout: PROBE_TIMEOUT_MS,
    maxRetries: 0,
  });
  try {
    const result = await client.getResult(PROBE_REQ_KEY, PROBE_TASK_ID);
    return judgeVisualProbe(config.endpoint, { answer: result.status });
  } catch (error) {
    return judgeVisualProbe(config.endpoint, { error });
  } finally {
    await client.close();
  }
}

async function probeArk(config: Extract<ProviderConfig, { provider: "ark" }>): Promise<Check[]> {
  const { ArkClient } = await import("../../providers/ark/client.js");
  const client = new ArkClient({
    apiKey: config.apiKey,
    endpoint: config.endpoint,
    timeout: PROBE_TIMEOUT_MS,
    maxRetries: 0,
  });
  try {
    const list = await client.videos.list({ pageSize: 1 });
    return [
      check("network", "ark endpoint", "ok", `${config.endpoint} answered`),
      check("auth", "ark credentials", "ok", `API key accepted (listed video tasks: ${list.total} in total)`),
    ];
  } catch (error) {
    if (error instanceof NetworkError || error instanceof TimeoutError) {
      return [
        check(
          "network",
          "ark endpoint",
          "fail",
          `${config.endpoint} unreachable: ${message(error)}`,
          "check the network, or point JIMENG_ARK_ENDPOINT / --endpoint / `jimeng config set arkEndpoint` at Ark",
        ),
        check("auth", "ark credentials", "skip", "not probed: the endpoint did not answer"),
      ];
    }
    if (error instanceof AuthError || error instanceof ApiError) {
      const requestId = error.requestId ? ` (request id ${error.requestId})` : "";
      const auth = error instanceof AuthError;
      return [
        check("network", "ark endpoint", "ok", `${config.endpoint} answered`),
        check(
          auth ? "auth" : "config",
          "ark credentials",
          "fail",
          `${error.code}${requestId}`,
          auth
            ? "create an API key in the Ark console and store it with `jimeng config set arkApiKey -` (or ARK_API_KEY)"
            : "check the Ark endpoint address (default https://ark.cn-beijing.volces.com/api/v3)",
        ),
      ];
    }
    throw error;
  } finally {
    await client.close();
  }
}

const SESSION_FIX =
  "log in to the Jimeng site again, copy the `sessionid` cookie, and store it with `jimeng config set sessionId -` (or JIMENG_SESSION_ID)";

async function probeSession(config: Extract<ProviderConfig, { provider: "session" }>): Promise<Check[]> {
  const { SessionClient } = await import("../../providers/session/client.js");
  const client = new SessionClient({
    sessionId: config.sessionIds,
    endpoint: config.endpoint,
    timeout: PROBE_TIMEOUT_MS,
    maxRetries: 0,
  });
  const checks: Check[] = [];
  try {
    let sessions: Awaited<ReturnType<typeof client.token.check>>;
    try {
      sessions = await client.token.check();
    } catch (error) {
      if (error instanceof NetworkError || error instanceof TimeoutError) {
        return [
          check(
            "network",
            "session endpoint",
            "fail",
            `${config.endpoint} unreachable: ${message(error)}`,
            "start your jimeng-api server, or point JIMENG_SESSION_ENDPOINT / --endpoint / `jimeng config set sessionEndpoint` at it",
          ),
          check("auth", "session liveness", "skip", "not checked: the endpoint did not answer"),
        ];
      }
      return [
        check(
          "config",
          "session endpoint",
          "fail",
          `${config.endpoint} answered, but not as a jimeng-api server: ${message(error)}`,
          "check the session endpoint address",
        ),
      ];
    }
    checks.push(check("network", "session endpoint", "ok", `${config.endpoint} answered`));
    for (const session of sessions) {
      const label = `${session.session}, account ${session.account}`;
      if (session.live) checks.push(check("auth", "session liveness", "ok", `${label} is live`));
      else if (session.note)
        checks.push(check("auth", "session liveness", "warn", `${label}: ${session.note}`));
      else checks.push(check("auth", "session liveness", "fail", `${label} is not live`, SESSION_FIX));
    }
    try {
      for (const row of await client.token.points()) {
        const label = row.session;
        if (row.points) {
          const status: CheckStatus = row.points.total > 0 ? "ok" : "warn";
          checks.push(
            check(
              "auth",
              "session credits",
              status,
              `${label}: ${row.points.total} credits`,
              status === "warn"
                ? "no credits left: claim the daily credits on the Jimeng site, or wait for tomorrow"
                : undefined,
            ),
          );
        } else {
          checks.push(check("auth", "session credits", "warn", `${label}: ${row.error ?? "unknown"}`));
        }
      }
    } catch (error) {
      checks.push(check("auth", "session credits", "warn", `could not read credits: ${message(error)}`));
    }
    return checks;
  } finally {
    await client.close();
  }
}

function credentialsOf(settings: Settings, provider: ProviderName): ProviderConfig | Error | undefined {
  const has =
    provider === "visual"
      ? settings.accessKeyId || settings.secretAccessKey
      : provider === "ark"
        ? settings.arkApiKey
        : settings.sessionId;
  const chosen = settings.provider?.value === provider;
  if (!has && !chosen) return undefined;
  try {
    return providerConfig({ ...settings, provider: { value: provider, source: "flag" } });
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Runs every check. */
export async function runChecks(context: CommandContext): Promise<Check[]> {
  const { env } = context;
  const checks: Check[] = [nodeCheck(process.versions.node), ...configChecks(env)];
  let settings: Settings;
  try {
    const { openConfigStore } = await import("../config.js");
    let store = {};
    try {
      store = openConfigStore(env).read();
    } catch {
      // Reported by the config file check.
    }
    settings = resolveSettings({
      flags: {
        ...(context.globals.provider ? { provider: context.globals.provider } : {}),
        emulator: context.globals.emulator,
      },
      env,
      store,
    });
  } catch (error) {
    checks.push(
      check(
        "config",
        "settings",
        "fail",
        message(error),
        error instanceof JimengError ? error.hint : undefined,
      ),
    );
    return checks;
  }

  let stopEmulator: (() => Promise<void>) | undefined;
  if (settings.emulator) {
    const { startEmulator } = await import("../../emulator/server.js");
    const emulator = await startEmulator();
    stopEmulator = () => emulator.stop();
    settings = withEmulator(settings, emulator);
    checks.push(
      check("runtime", "emulator", "ok", `in-process emulator on ${emulator.url} (demo credentials)`),
    );
  }
  context.output.secrets.add(...secretsOf(settings));

  try {
    const chosen = settings.provider?.value;
    if (chosen === undefined) {
      checks.push(
        check(
          "config",
          "credentials",
          "fail",
          "no credentials configured for any provider",
          "for the Visual API export VOLC_ACCESSKEY and VOLC_SECRETKEY; for Ark export ARK_API_KEY; for a session server export JIMENG_SESSION_ID; or try everything offline with --emulator",
        ),
      );
      return checks;
    }
    checks.push(
      check(
        "config",
        "provider",
        "ok",
        `${chosen} (${settings.provider?.source === "auto" ? "picked from your credentials" : `from ${settings.provider?.source}`})`,
      ),
    );
    for (const provider of PROVIDER_NAMES) {
      const config = credentialsOf(settings, provider);
      if (config === undefined) {
        checks.push(check("config", `${provider} credentials`, "skip", "not configured"));
        continue;
      }
      if (config instanceof Error) {
        checks.push(
          check(
            "config",
            `${provider} credentials`,
            "fail",
            message(config),
            config instanceof JimengError ? config.hint : undefined,
          ),
        );
        continue;
      }
      checks.push(
        ...(config.provider === "visual"
          ? await probeVisual(config)
          : config.provider === "ark"
            ? await probeArk(config)
            : await probeSession(config)),
      );
    }
    return checks;
  } finally {
    await stopEmulator?.();
  }
}

/** Pure: the exit code of a checklist. */
export function doctorExitCode(checks: readonly Check[]): number {
  const failed = checks.filter((item) => item.status === "fail");
  if (failed.some((item) => item.area === "config" || item.area === "auth")) return EXIT.auth;
  return failed.length > 0 ? EXIT.failed : EXIT.ok;
}

function human(output: Output, checks: readonly Check[]): string {
  const style = output.style;
  const symbol: Record<CheckStatus, string> = {
    ok: style.green("✔"),
    warn: style.yellow("!"),
    fail: style.red("✖"),
    skip: style.dim("-"),
  };
  const width = Math.max(...checks.map((item) => item.name.length));
  const lines: string[] = [];
  for (const item of checks) {
    lines.push(`${symbol[item.status]} ${item.name.padEnd(width)}  ${item.detail}`);
    if (item.fix && item.status !== "ok")
      lines.push(`  ${" ".repeat(width)}  ${style.cyan("fix:")} ${item.fix}`);
  }
  const failed = checks.filter((item) => item.status === "fail").length;
  lines.push("", failed === 0 ? "All checks passed." : `${failed} check${failed === 1 ? "" : "s"} failed.`);
  return lines.join("\n");
}

export async function run(context: CommandContext, _call: CommandCall): Promise<number> {
  const checks = await runChecks(context);
  const document: DoctorDocument = {
    ok: checks.every((item) => item.status !== "fail"),
    checks: checks.map(({ area: _area, ...rest }) => rest),
  };
  context.output.result(document, () => human(context.output, checks));
  return doctorExitCode(checks);
}
