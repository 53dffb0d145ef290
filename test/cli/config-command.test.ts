import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fakeTerminal, tempConfigDir } from "./helpers.js";

const SECRET = "sk-secret-ABCDEFGHIJKLMNOP-wxyz";
const ACCESS_KEY = "AKLTexampleaccesskey0abcd";

let folder: ReturnType<typeof tempConfigDir>;
beforeEach(() => {
  folder = tempConfigDir();
});
afterEach(() => folder.cleanup());

function terminal(options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}) {
  return fakeTerminal({ ...options, env: { JIMENG_CONFIG_DIR: folder.dir, ...options.env } });
}

async function run(args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}) {
  const t = terminal(options);
  const code = await main(args, t.io);
  return { code, out: t.out(), err: t.err() };
}

function stored(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(folder.dir, "config.json"), "utf8"));
}

describe("jimeng config", () => {
  it("path prints the config file inside JIMENG_CONFIG_DIR", async () => {
    const result = await run(["config", "path"]);
    expect(result.code).toBe(0);
    expect(result.out).toBe(`${join(folder.dir, "config.json")}\n`);

    const json = await run(["config", "path", "--json"]);
    expect(JSON.parse(json.out)).toEqual({ path: join(folder.dir, "config.json") });
  });

  it("set stores the value in a 0600 file inside a 0700 folder", async () => {
    const result = await run(["config", "set", "region", "cn-beijing-2"]);
    expect(result.code).toBe(0);
    expect(stored()).toEqual({ region: "cn-beijing-2" });
    expect(statSync(folder.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(folder.dir, "config.json")).mode & 0o777).toBe(0o600);
  });

  it("set with - reads the value from stdin, and never echoes the secret", async () => {
    const result = await run(["config", "set", "secretAccessKey", "-"], { stdin: `${SECRET}\n` });
    expect(result.code).toBe(0);
    expect(stored()).toEqual({ secretAccessKey: SECRET });
    expect(result.out + result.err).not.toContain(SECRET);
    expect(result.err).toContain("secretAccessKey = sk-s…wxyz");
  });

  it("set warns that a secret given as an argument stays in shell history", async () => {
    const result = await run(["config", "set", "secretAccessKey", SECRET]);
    expect(result.code).toBe(0);
    expect(result.err).toContain("shell history");
    expect(result.out + result.err).not.toContain(SECRET);
  });

  it("set --json prints the key, the masked value and the path", async () => {
    const result = await run(["config", "set", "accessKeyId", ACCESS_KEY, "--json"]);
    expect(JSON.parse(result.out)).toEqual({
      key: "accessKeyId",
      value: "AKLT…abcd",
      path: join(folder.dir, "config.json"),
    });
  });

  it("set rejects an unknown key with exit code 2, naming the closest key", async () => {
    const result = await run(["config", "set", "acessKeyID", "x"]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('unknown config key "acessKeyID"; did you mean "accessKeyId"?');
  });

  it("set rejects an invalid value with exit code 2 and stores nothing", async () => {
    const result = await run(["config", "set", "visualEndpoint", "ftp://example"]);
    expect(result.code).toBe(2);
    expect(result.err).toContain("visualEndpoint: must be an http:// or https:// URL");
    const provider = await run(["config", "set", "provider", "openai"]);
    expect(provider.code).toBe(2);
    expect(() => stored()).toThrow();
  });

  it("set - with empty stdin is a usage error", async () => {
    const result = await run(["config", "set", "sessionId", "-"], { stdin: "\n" });
    expect(result.code).toBe(2);
    expect(result.err).toContain("stdin held no value");
  });

  it("get prints a plain value, and a credential masked", async () => {
    await run(["config", "set", "region", "cn-beijing-2"]);
    await run(["config", "set", "accessKeyId", ACCESS_KEY]);
    expect((await run(["config", "get", "region"])).out).toBe("cn-beijing-2\n");
    expect((await run(["config", "get", "accessKeyId"])).out).toBe("AKLT…abcd\n");
  });

  it("get --json shows the effective value and where it comes from", async () => {
    await run(["config", "set", "region", "cn-beijing-2"]);
    const fromStore = await run(["config", "get", "region", "--json"]);
    expect(JSON.parse(fromStore.out)).toEqual({ key: "region", value: "cn-beijing-2", source: "config" });

    const fromEnv = await run(["config", "get", "region", "--json"], { env: { JIMENG_REGION: "ap-sg-1" } });
    expect(JSON.parse(fromEnv.out)).toEqual({ key: "region", value: "ap-sg-1", source: "env" });

    const unset = await run(["config", "get", "sessionId", "--json"]);
    expect(JSON.parse(unset.out)).toEqual({ key: "sessionId", value: null, source: "unset" });
  });

  it("get masks every one of several session ids", async () => {
    await run(["config", "set", "sessionId", "-"], { stdin: "session-one-111111,us-session-two-222222" });
    const result = await run(["config", "get", "sessionId"]);
    expect(result.out).toBe("sess…1111,us-s…2222\n");
  });

  it("list shows every key with masked credentials and their sources", async () => {
    await run(["config", "set", "secretAccessKey", "-"], { stdin: SECRET });
    const result = await run(["config", "list"], { env: { VOLC_ACCESSKEY: ACCESS_KEY } });
    expect(result.code).toBe(0);
    expect(result.out).not.toContain(SECRET);
    expect(result.out).toMatch(/accessKeyId\s+AKLT…abcd\s+env/);
    expect(result.out).toMatch(/secretAccessKey\s+sk-s…wxyz\s+config/);
    expect(result.out).toMatch(/region\s+cn-north-1\s+default/);
    expect(result.out).toMatch(/provider\s+visual\s+auto/);
    expect(result.out).toMatch(/sessionId\s+—/);
  });

  it("stores the Ark API key from stdin and shows it masked", async () => {
    const key = "ark-0123456789-secret-9f3e";
    await run(["config", "set", "arkApiKey", "-"], { stdin: key });
    const result = await run(["config", "list"]);
    expect(result.out).toMatch(/arkApiKey\s+ark-…9f3e\s+config/);
    expect(result.out).toMatch(/provider\s+ark\s+auto/);
    expect(result.out).not.toContain(key);
  });

  it("list --json is one document with every key", async () => {
    await run(["config", "set", "secretAccessKey", "-"], { stdin: SECRET });
    const result = await run(["config", "list", "--json"]);
    const document = JSON.parse(result.out);
    expect(document.path).toBe(join(folder.dir, "config.json"));
    expect(Object.keys(document.settings).sort()).toEqual(
      [
        "accessKeyId",
        "arkApiKey",
        "arkEndpoint",
        "outDir",
        "provider",
        "region",
        "secretAccessKey",
        "sessionEndpoint",
        "sessionId",
        "visualEndpoint",
      ].sort(),
    );
    expect(document.settings.secretAccessKey).toEqual({ value: "sk-s…wxyz", source: "config" });
    expect(document.settings.accessKeyId).toEqual({ value: null, source: "unset" });
    expect(result.out).not.toContain(SECRET);
    expect(result.err).toBe("");
  });

  it("unset removes a key and reports whether it was set", async () => {
    await run(["config", "set", "region", "cn-beijing-2"]);
    const removed = await run(["config", "unset", "region", "--json"]);
    expect(JSON.parse(removed.out)).toMatchObject({ key: "region", removed: true });
    expect(stored()).toEqual({});
    const again = await run(["config", "unset", "region", "--json"]);
    expect(JSON.parse(again.out)).toMatchObject({ key: "region", removed: false });
  });

  it("a config file with an invalid value is a configuration error (exit 3) naming the key", async () => {
    await run(["config", "set", "region", "cn-north-1"]);
    writeFileSync(join(folder.dir, "config.json"), JSON.stringify({ provider: "openai" }));
    const result = await run(["config", "list"]);
    expect(result.code).toBe(3);
    expect(result.err).toContain("has an invalid provider");
    expect(result.err).toContain("jimeng config unset provider");
  });

  it("a config file that is not JSON is a configuration error (exit 3)", async () => {
    await run(["config", "set", "region", "cn-north-1"]);
    writeFileSync(join(folder.dir, "config.json"), "{ not json");
    const result = await run(["config", "get", "region"]);
    expect(result.code).toBe(3);
    expect(result.err).toContain("cannot read the config file");
  });

  it("a bad environment value is a configuration error (exit 3) naming the variable", async () => {
    const result = await run(["config", "list"], { env: { JIMENG_PROVIDER: "openai" } });
    expect(result.code).toBe(3);
    expect(result.err).toContain("JIMENG_PROVIDER");
  });
});
