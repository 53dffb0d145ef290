import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { AbortError, DownloadError, NetworkError, ValidationError } from "../../src/errors.js";
import { HttpTransport } from "../../src/http/transport.js";
import { type DownloadOptions, downloadOutputs } from "../../src/media/download.js";
import { type Handler, rejectionOf, startServer } from "../helpers/http-server.js";
import { jpeg, png } from "./fixtures.js";

const IMAGE = png(32, 16);
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

let dir: string;
let server: Awaited<ReturnType<typeof startServer>> | undefined;
let handler: Handler;
const transport = new HttpTransport();
const delays: number[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "jimeng-download-"));
  delays.length = 0;
  handler = (_req, res) => {
    res.writeHead(200, { "content-type": "image/png", "content-length": IMAGE.length });
    res.end(IMAGE);
  };
  server = await startServer((req, res, index) => handler(req, res, index));
});
afterEach(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});
afterAll(async () => {
  await transport.close();
});

function options(extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return {
    dir,
    context: { prompt: "A red fox", model: "jimeng-4.0", taskId: "task-1" },
    transport,
    now: () => new Date(2026, 0, 2, 12),
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0,
    ...extra,
  };
}

const url = (path = "/out.png") => `${server?.url}${path}`;

describe("downloadOutputs", () => {
  it("streams a URL output to a named file with its size, SHA-256 and content type", async () => {
    const [file] = await downloadOutputs([{ url: url() }], options());
    expect(file).toEqual({
      index: 0,
      file: join(dir, "20260102-a-red-fox-1.png"),
      bytes: IMAGE.length,
      sha256: sha256(IMAGE),
      contentType: "image/png",
      url: url(),
    });
    expect(await readFile(join(dir, "20260102-a-red-fox-1.png"))).toEqual(IMAGE);
    expect(await readdir(dir)).toEqual(["20260102-a-red-fox-1.png"]);
  });

  it("creates a missing target folder", async () => {
    const nested = join(dir, "a", "b");
    const [file] = await downloadOutputs([{ url: url() }], options({ dir: nested }));
    expect(dirname(file?.file ?? "")).toBe(nested);
  });

  it("retries a body cut short of its Content-Length from zero and leaves no temp file", async () => {
    handler = (_req, res, index) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": IMAGE.length });
      if (index === 0) {
        res.write(IMAGE.subarray(0, 20));
        setImmediate(() => res.socket?.destroy());
        return;
      }
      res.end(IMAGE);
    };
    const [file] = await downloadOutputs([{ url: url() }], options());
    expect(server?.requests).toHaveLength(2);
    expect(delays).toEqual([500]);
    expect(file?.sha256).toBe(sha256(IMAGE));
    expect(await readdir(dir)).toEqual(["20260102-a-red-fox-1.png"]);
  });

  it("gives up after the bounded retries with a NetworkError and no file at all", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": IMAGE.length });
      res.write(IMAGE.subarray(0, 20));
      setImmediate(() => res.socket?.destroy());
    };
    const error = await rejectionOf(downloadOutputs([{ url: url() }], options({ retries: 2 })));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.code).toBe("DOWNLOAD_TRUNCATED");
    expect(server?.requests).toHaveLength(3);
    expect(delays).toEqual([500, 1000]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("retries a 503 after the server's Retry-After and does not retry a 404", async () => {
    handler = (_req, res, index) => {
      if (index === 0) {
        res.writeHead(503, { "retry-after": "2" });
        res.end();
        return;
      }
      if (index === 2) {
        res.writeHead(404);
        res.end("gone");
        return;
      }
      res.writeHead(200, { "content-type": "image/png" });
      res.end(IMAGE);
    };
    const [file] = await downloadOutputs([{ url: url() }], options());
    expect(file?.bytes).toBe(IMAGE.length);
    expect(delays).toEqual([2000]);

    const error = await rejectionOf(downloadOutputs([{ url: url() }], options({ name: "other" })));
    expect(error).toBeInstanceOf(DownloadError);
    expect(error).toMatchObject({ code: "DOWNLOAD_FAILED", httpStatus: 404, retryable: true });
    expect(error.message).toMatch(/HTTP 404/);
    expect(error.hint).toMatch(/expired/);
    expect(server?.requests).toHaveLength(3);
  });

  it("names the file after the magic bytes when the Content-Type is wrong", async () => {
    const photo = jpeg(20, 10);
    handler = (req, res) => {
      res.writeHead(200, { "content-type": req.url === "/a" ? "text/plain" : "image/png" });
      res.end(req.url === "/a" ? IMAGE : photo);
    };
    const files = await downloadOutputs(
      [{ url: url("/a") }, { url: url("/b") }],
      options({ name: "shot-{index}" }),
    );
    expect(files.map((f) => [f.file, f.contentType])).toEqual([
      [join(dir, "shot-1.png"), "image/png"],
      [join(dir, "shot-2.jpg"), "image/jpeg"],
    ]);
  });

  it("refuses an HTML page served in place of an image, leaving nothing behind", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end("<html><body>Access denied</body></html>");
    };
    const error = await rejectionOf(downloadOutputs([{ url: url() }], options()));
    expect(error).toBeInstanceOf(DownloadError);
    expect(error).toMatchObject({ code: "INVALID_OUTPUT", retryable: false });
    expect(error.message).toBe("the server sent text/html instead of an image or video");
    expect(await readdir(dir)).toEqual([]);
  });

  it("refuses bytes that are not the media type they claim (retried, then a typed error); others are .bin", async () => {
    let attempts = 0;
    handler = (req, res) => {
      if (req.url === "/v") attempts++;
      res.writeHead(200, { "content-type": req.url === "/v" ? "video/mp4" : "application/octet-stream" });
      res.end(req.url === "/v" ? "<html>expired</html>" : "0123456789abcdef");
    };
    const error = await rejectionOf(downloadOutputs([{ url: url("/v") }], options({ name: "f{index}" })));
    expect(error.code).toBe("INVALID_OUTPUT");
    expect(error.message).toContain("sent as video/mp4, but its bytes are not an MP4 video");
    expect(attempts).toBe(4);
    const files = await downloadOutputs([{ url: url("/b") }], options({ name: "f{index}" }));
    expect(files.map((f) => f.file)).toEqual([join(dir, "f1.bin")]);
    expect(await readdir(dir)).toEqual(["f1.bin"]);
  });

  it("drops a body that goes silent for the idle period and retries it from zero", async () => {
    let attempts = 0;
    handler = (_req, res) => {
      attempts++;
      res.writeHead(200, { "content-type": "image/png", "content-length": IMAGE.length });
      if (attempts === 1)
        res.write(IMAGE.subarray(0, 10)); // then nothing, ever
      else res.end(IMAGE);
    };
    const [file] = await downloadOutputs([{ url: url() }], options({ idleTimeoutMs: 100 }));
    expect(attempts).toBe(2);
    expect(file?.bytes).toBe(IMAGE.length);
    expect((await readdir(dir)).filter((name) => name.endsWith(".part"))).toEqual([]);
  });

  it("refuses a PNG without IEND and a JPEG without EOI as incomplete downloads, retried", async () => {
    const cut: Record<string, Buffer> = {
      "/p": IMAGE.subarray(0, IMAGE.length - 12),
      "/j": jpeg(4, 4).subarray(0, jpeg(4, 4).length - 2),
    };
    let attempts = 0;
    handler = (req, res) => {
      attempts++;
      const body = cut[req.url ?? ""] ?? IMAGE;
      res.writeHead(200, { "content-type": "image/png", "content-length": body.length });
      res.end(body);
    };
    for (const [path, what] of [
      ["/p", "PNG (no IEND chunk)"],
      ["/j", "JPEG (no end-of-image marker)"],
    ] as const) {
      attempts = 0;
      const error = await rejectionOf(downloadOutputs([{ url: url(path) }], options()));
      expect(error.code).toBe("DOWNLOAD_INCOMPLETE");
      expect(error.message).toContain(`incomplete ${what}`);
      expect(attempts).toBe(4);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it("keeps hostile names inside the target folder", async () => {
    const hostile = [
      "../../etc/passwd",
      "/etc/shadow",
      "a\u0000b",
      "x".repeat(10_000),
      "CON",
      "..",
      "{slug}/../..",
    ];
    for (const name of hostile) {
      const [file] = await downloadOutputs([{ url: url() }], options({ name }));
      expect(dirname(file?.file ?? ""), JSON.stringify(name.slice(0, 20))).toBe(dir);
    }
    const names = await readdir(dir);
    expect(names).toContain("etc-passwd.png");
    expect(names).toContain("etc-shadow.png");
    expect(names).toContain("ab.png");
    expect(names).toContain("_CON.png");
    expect(names).toContain(`${"x".repeat(150)}.png`);
    expect(names.every((name) => !name.includes("\u0000"))).toBe(true);
  });

  it("keeps a prompt with path tricks from escaping through the slug", async () => {
    const context = { prompt: "../../../../etc/cron.d/x", model: "m", taskId: "t" };
    const [file] = await downloadOutputs([{ url: url() }], options({ context }));
    expect(file?.file).toBe(join(dir, "20260102-etc-cron-d-x-1.png"));
  });

  it("rejects an unknown placeholder before any request", async () => {
    const error = await rejectionOf(downloadOutputs([{ url: url() }], options({ name: "{prompt}" })));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues).toEqual([{ path: "name", message: expect.stringContaining("{prompt}") }]);
    expect(server?.requests).toHaveLength(0);
  });

  it("refuses non-http(s) output URLs from the server before any request", async () => {
    for (const bad of ["file:///etc/passwd", "data:image/png;base64,AAAA", "ftp://x/y.png"]) {
      const error = await rejectionOf(downloadOutputs([{ url: url() }, { url: bad }], options()));
      expect(error.code).toBe("UNSAFE_OUTPUT_URL");
    }
    expect(server?.requests).toHaveLength(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it("decodes base64 outputs, with a data: prefix or wrapped lines, in slices", async () => {
    // A PNG made big by an ancillary chunk of random bytes before its IEND.
    const filler = randomBytes(1_600_000);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(filler.length);
    const chunk = Buffer.concat([length, Buffer.from("zzZz"), filler, Buffer.alloc(4)]);
    const big = Buffer.concat([
      IMAGE.subarray(0, IMAGE.length - 12),
      chunk,
      IMAGE.subarray(IMAGE.length - 12),
    ]);
    const wrapped = big.toString("base64").replace(/.{76}/g, "$&\r\n");
    const files = await downloadOutputs(
      [
        { base64: IMAGE.toString("base64") },
        { base64: `data:image/jpeg;base64,${jpeg(4, 4).toString("base64")}` },
        { base64: wrapped },
      ],
      options({ name: "b{index}" }),
    );
    expect(files.map((f) => [f.file, f.bytes, f.url])).toEqual([
      [join(dir, "b1.png"), IMAGE.length, undefined],
      [join(dir, "b2.jpg"), jpeg(4, 4).length, undefined],
      [join(dir, "b3.png"), big.length, undefined],
    ]);
    // Compared as a hash: a deep equality on 1.6 MB is needlessly slow.
    expect(sha256(await readFile(join(dir, "b3.png")))).toBe(sha256(big));
    expect(files[2]?.sha256).toBe(sha256(big));
  });

  it("refuses base64 output that is not base64", async () => {
    const error = await rejectionOf(downloadOutputs([{ base64: "iVBOR$$$not-base64" }], options()));
    expect(error.code).toBe("INVALID_OUTPUT");
    expect(await readdir(dir)).toEqual([]);
  });

  it("adds -1, -2 instead of overwriting a different file, and reuses an identical one", async () => {
    await writeFile(join(dir, "pic.png"), "someone else's file");
    const first = await downloadOutputs([{ url: url() }], options({ name: "pic" }));
    const second = await downloadOutputs([{ url: url() }], options({ name: "pic" }));
    await writeFile(join(dir, "jpg.jpg"), "x");
    expect(first[0]?.file).toBe(join(dir, "pic-1.png"));
    expect(second[0]?.file).toBe(join(dir, "pic-1.png"));
    expect(await readFile(join(dir, "pic.png"), "utf8")).toBe("someone else's file");

    handler = (_req, res) => res.end(jpeg(9, 9));
    const third = await downloadOutputs([{ url: url() }, { url: url() }], options({ name: "jpg" }));
    expect(third.map((f) => f.file).sort()).toEqual([join(dir, "jpg-1.jpg"), join(dir, "jpg-1.jpg")]);
    expect((await readdir(dir)).sort()).toEqual(["jpg-1.jpg", "jpg.jpg", "pic-1.png", "pic.png"]);
  });

  it("stops on abort mid-download with AbortError and removes the temp file", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "video/mp4", "content-length": 10_000_000 });
      res.write(Buffer.alloc(64 * 1024));
    };
    const controller = new AbortController();
    const seen: number[] = [];
    const promise = downloadOutputs(
      [{ url: url() }],
      options({
        signal: controller.signal,
        onProgress: (event) => {
          seen.push(event.bytes);
          expect(event.total).toBe(10_000_000);
          controller.abort();
        },
      }),
    );
    const error = await rejectionOf(promise);
    expect(error).toBeInstanceOf(AbortError);
    expect(seen.length).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual([]);
    expect(server?.requests).toHaveLength(1);
  });

  it("refuses an output whose Content-Length exceeds the cap without reading it", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "video/mp4", "content-length": 5000 });
      res.end(Buffer.alloc(5000));
    };
    const error = await rejectionOf(downloadOutputs([{ url: url() }], options({ maxBytes: 4096 })));
    expect(error.code).toBe("DOWNLOAD_TOO_LARGE");
    expect(error.message).toBe("output 1 is 4.9 KB; the download limit is 4 KB");
    expect(server?.requests).toHaveLength(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it("enforces the cap while streaming a body without Content-Length", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "video/mp4" });
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1024));
      res.end();
    };
    const error = await rejectionOf(downloadOutputs([{ url: url() }], options({ maxBytes: 4096 })));
    expect(error.code).toBe("DOWNLOAD_TOO_LARGE");
    expect(error.message).toBe("output 1 is more than 4 KB; the download limit is 4 KB");
    expect(await readdir(dir)).toEqual([]);
  });

  it("runs at most `concurrency` downloads at once, in parallel up to that bound", async () => {
    // A transport that answers each stream() on the next turn of the event loop: every download the
    // scheduler allows is started before any finishes, so the peak is exactly the allowed parallelism.
    class CountingTransport extends HttpTransport {
      inFlight = 0;
      peak = 0;
      override async stream(): ReturnType<HttpTransport["stream"]> {
        this.inFlight++;
        this.peak = Math.max(this.peak, this.inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        const body = Readable.from([IMAGE]);
        body.once("end", () => this.inFlight--);
        return { status: 200, headers: {}, body, header: () => undefined };
      }
    }
    const outputs = Array.from({ length: 5 }, (_, i) => ({ url: url(`/${i}`) }));
    for (const [concurrency, peak] of [
      [2, 2],
      [undefined, 4],
      [0, 1],
    ] as const) {
      const counting = new CountingTransport();
      const files = await downloadOutputs(
        outputs,
        options({ concurrency, transport: counting, name: "c{index}" }),
      );
      expect(files.map((f) => f.index)).toEqual([0, 1, 2, 3, 4]);
      expect(counting.peak).toBe(peak);
    }
  });

  it("stops the other downloads when one fails for good and returns its error", async () => {
    handler = (req, res) => {
      if (req.url === "/bad") {
        res.writeHead(403);
        res.end();
        return;
      }
      res.writeHead(200, { "content-type": "video/mp4" });
      res.write(Buffer.alloc(1024));
    };
    const error = await rejectionOf(
      downloadOutputs([{ url: url("/slow") }, { url: url("/bad") }], options()),
    );
    expect(error.message).toMatch(/output 2 .* HTTP 403/);
    expect(await readdir(dir)).toEqual([]);
  });
});
