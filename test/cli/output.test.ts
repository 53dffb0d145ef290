import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { decideOutputMode, Output } from "../../src/cli/output.js";
import { ApiError, TimeoutError, ValidationError } from "../../src/errors.js";
import { fakeTerminal } from "./helpers.js";

const ESC = "\u001b[";
const SECRET = "super-secret-value-9876";

describe("decideOutputMode", () => {
  it("uses spinners and colour on a TTY outside CI", () => {
    const mode = decideOutputMode({}, fakeTerminal({ tty: true }).io);
    expect(mode).toEqual({
      json: false,
      quiet: false,
      verbose: false,
      interactive: true,
      color: { stdout: true, stderr: true },
    });
  });

  it("uses plain lines and no colour when the streams are pipes", () => {
    const mode = decideOutputMode({}, fakeTerminal().io);
    expect(mode.interactive).toBe(false);
    expect(mode.color).toEqual({ stdout: false, stderr: false });
  });

  it("uses no spinner under CI, even on a TTY", () => {
    expect(decideOutputMode({}, fakeTerminal({ tty: true, env: { CI: "true" } }).io).interactive).toBe(false);
    expect(decideOutputMode({}, fakeTerminal({ tty: true, env: { CI: "false" } }).io).interactive).toBe(true);
  });

  it("drops colour for NO_COLOR, --no-color and TERM=dumb", () => {
    const none = { stdout: false, stderr: false };
    expect(decideOutputMode({}, fakeTerminal({ tty: true, env: { NO_COLOR: "1" } }).io).color).toEqual(none);
    expect(decideOutputMode({ color: false }, fakeTerminal({ tty: true }).io).color).toEqual(none);
    const dumb = decideOutputMode({}, fakeTerminal({ tty: true, env: { TERM: "dumb" } }).io);
    expect(dumb.color).toEqual(none);
    expect(dumb.interactive).toBe(false);
  });

  it("FORCE_COLOR turns colour on for a pipe, but NO_COLOR still wins", () => {
    expect(decideOutputMode({}, fakeTerminal({ env: { FORCE_COLOR: "1" } }).io).color.stdout).toBe(true);
    expect(
      decideOutputMode({}, fakeTerminal({ env: { FORCE_COLOR: "1", NO_COLOR: "1" } }).io).color.stdout,
    ).toBe(false);
  });

  it("--quiet turns off the spinner and --verbose", () => {
    const mode = decideOutputMode({ quiet: true, verbose: true }, fakeTerminal({ tty: true }).io);
    expect(mode.interactive).toBe(false);
    expect(mode.verbose).toBe(false);
  });
});

describe("Output", () => {
  it("with --json, writes exactly one document on stdout and human text on stderr", () => {
    const t = fakeTerminal();
    const output = new Output(t.io, { json: true });
    output.print("a human table");
    output.info("working on it");
    output.result({ ok: true }, () => "ignored");
    expect(() => output.json({ second: true })).toThrow(/already written/);
    expect(t.out()).toBe('{"ok":true}\n');
    expect(t.err()).toBe("working on it\n");
  });

  it("indents the --json document for a person at a terminal", () => {
    const t = fakeTerminal({ tty: true });
    new Output(t.io, { json: true }).json({ ok: true });
    expect(t.out()).toBe('{\n  "ok": true\n}\n');
  });

  it("without --json, prints the human result on stdout", () => {
    const t = fakeTerminal();
    new Output(t.io, {}).result({ ok: true }, () => "done");
    expect(t.out()).toBe("done\n");
  });

  it("--quiet silences information and progress, but not warnings, failures or errors", () => {
    const t = fakeTerminal();
    const output = new Output(t.io, { quiet: true });
    output.info("info line");
    output.progress.phase("phase line");
    output.progress.succeed("success line");
    output.warn("warning line");
    output.progress.fail("failure line");
    output.error(new Error("error line"));
    expect(t.err()).not.toMatch(/info line|phase line|success line/);
    expect(t.err()).toContain("warning line");
    expect(t.err()).toContain("failure line");
    expect(t.err()).toContain("error line");
  });

  it("--verbose lines appear only with --verbose", () => {
    const quiet = fakeTerminal();
    new Output(quiet.io, {}).verbose("detail");
    const verbose = fakeTerminal();
    new Output(verbose.io, { verbose: true }).verbose("detail");
    expect(quiet.err()).toBe("");
    expect(verbose.err()).toBe("detail\n");
  });

  it("without a TTY, progress is plain lines on stderr", () => {
    const t = fakeTerminal();
    const output = new Output(t.io, {});
    output.progress.phase("submitting");
    output.progress.info("task 42");
    output.progress.succeed("saved 2 files");
    expect(t.err()).toBe("• submitting\nℹ task 42\n✔ saved 2 files\n");
    expect(t.out()).toBe("");
  });

  it("on a TTY, progress loads a spinner lazily and ends it with a persisted line", async () => {
    const t = fakeTerminal({ tty: true });
    const calls: string[] = [];
    let loads = 0;
    const output = new Output(
      t.io,
      {},
      {
        loadOra: async () => {
          loads++;
          return (options) => {
            calls.push(`create ${options.text}`);
            const spinner = {
              text: options.text,
              start: () => spinner,
              stopAndPersist: (persist: { symbol: string; text: string }) => {
                calls.push(`persist ${persist.text}`);
                return spinner;
              },
              stop: () => spinner,
              clear: () => spinner,
              render: () => spinner,
            };
            return spinner as unknown as import("ora").Ora;
          };
        },
      },
    );
    expect(loads).toBe(0);
    output.progress.phase("submitting");
    output.progress.phase("waiting");
    await new Promise((resolve) => setImmediate(resolve));
    output.progress.succeed("done");
    expect(loads).toBe(1);
    expect(calls).toEqual(["create waiting", "persist done"]);
  });

  it("on a TTY, a phase that ends before the spinner loads becomes a plain line", () => {
    const t = fakeTerminal({ tty: true, env: { NO_COLOR: "1" } });
    const output = new Output(t.io, {}, { loadOra: () => new Promise(() => {}) });
    output.progress.phase("submitting");
    output.progress.fail("refused");
    expect(t.err()).toBe("✖ refused\n");
  });

  it("drives a real ora spinner on a TTY without leaking a secret", async () => {
    const t = fakeTerminal({ tty: true, env: { NO_COLOR: "1" } });
    const output = new Output(t.io, {});
    output.secrets.add(SECRET);
    const firstFrame = once(t.streams.stderr, "data");
    output.progress.phase(`talking to ${SECRET}`);
    await firstFrame;
    output.progress.succeed(`done with ${SECRET}`);
    expect(t.err()).toContain("done with [redacted]");
    expect(t.err()).not.toContain(SECRET);
  });
});

describe("secret scrubbing", () => {
  it("removes every registered secret from every stream and document", () => {
    const t = fakeTerminal();
    const output = new Output(t.io, { json: true, verbose: true });
    output.secrets.add(SECRET, "sess-aaaa1111,http://user:pw@proxy:8080@us-sess-bbbb2222");
    output.info(`key ${SECRET}`);
    output.verbose("using sess-aaaa1111 and us-sess-bbbb2222");
    output.warn(`retrying with ${SECRET}`);
    output.progress.phase(`phase ${SECRET}`);
    output.error(new Error(`upstream echoed ${SECRET} and sess-aaaa1111`));
    const everything = t.out() + t.err();
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain("sess-aaaa1111");
    expect(everything).not.toContain("us-sess-bbbb2222");
    expect(everything).toContain("[redacted]");
    expect(JSON.parse(t.out()).error.message).toBe("upstream echoed [redacted] and [redacted]");
  });
});

describe("error reports", () => {
  const apiError = new ApiError("the prompt was rejected", {
    provider: "visual",
    httpStatus: 400,
    code: 50411,
    requestId: "req-123",
    hint: "rephrase the prompt",
  });

  it("say what happened, the provider's code and request id, and what to do next", () => {
    const t = fakeTerminal();
    new Output(t.io, {}).error(apiError);
    expect(t.err()).toBe(
      "error: the prompt was rejected\n  provider visual · HTTP 400 · code 50411 · request id req-123\n  hint: rephrase the prompt\n",
    );
  });

  it("list every field of a validation error", () => {
    const t = fakeTerminal();
    new Output(t.io, {}).error(
      new ValidationError([
        { path: "ratio", message: "must be one of 1:1, 16:9" },
        { path: "count", message: "must be at most 4" },
      ]),
    );
    expect(t.err()).toBe(
      "error: invalid input\n  ratio: must be one of 1:1, 16:9\n  count: must be at most 4\n",
    );
  });

  it("with --json, are the stdout document unless the command already wrote one", () => {
    const t = fakeTerminal();
    new Output(t.io, { json: true }).error(new TimeoutError("gave up waiting", { taskId: "task-9" }));
    expect(JSON.parse(t.out())).toEqual({
      error: { name: "TimeoutError", code: "TIMEOUT", message: "gave up waiting", taskId: "task-9" },
    });

    const after = fakeTerminal();
    const output = new Output(after.io, { json: true });
    output.json({ taskId: "task-9", status: "failed" });
    output.error(apiError);
    expect(after.out().trim().split("\n")).toHaveLength(1);
    expect(after.err()).toContain("the prompt was rejected");
  });

  it("are coloured on a TTY, and carry no escape codes with NO_COLOR", () => {
    const coloured = fakeTerminal({ tty: true });
    new Output(coloured.io, {}).error(apiError);
    expect(coloured.err()).toContain(ESC);

    const plain = fakeTerminal({ tty: true, env: { NO_COLOR: "1" } });
    new Output(plain.io, {}).error(apiError);
    expect(plain.err()).not.toContain(ESC);
  });

  it("show the cause chain with --verbose", () => {
    const t = fakeTerminal();
    new Output(t.io, { verbose: true }).error(
      new Error("download failed", { cause: new Error("ECONNRESET") }),
    );
    expect(t.err()).toContain("caused by: ECONNRESET");
  });
});
