/**
 * Outputs to files. Each output (an http(s) URL, or base64) is streamed to a temp file in the target folder
 * while its SHA-256 and size are computed, then renamed into place under a safe name. Never holds a whole
 * output in memory, never overwrites a different file, never leaves a partial file behind: a cut-off body is
 * detected, its temp file removed, and the download retried from zero (downloads are safe to repeat).
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, lstat, open, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { formatBytes } from "../bytes.js";
import { AbortError, DownloadError, JimengError, NetworkError, TimeoutError } from "../errors.js";
import { isRetryable, parseRetryAfter, retryDelay } from "../http/retry.js";
import { sleep as defaultSleep } from "../http/sleep.js";
import { HttpTransport } from "../http/transport.js";
import type { TaskOutput } from "../providers/types.js";
import { createFolder } from "./folder.js";
import { checkNameTemplate, DEFAULT_NAME_TEMPLATE, renderName } from "./naming.js";
import { sniffMedia } from "./sniff.js";

export const DEFAULT_MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024;
export const DEFAULT_DOWNLOAD_CONCURRENCY = 4;
export const DEFAULT_DOWNLOAD_RETRIES = 3;
/** Per attempt, body included. */
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
/** The longest a download may send nothing (no headers, no body bytes) before the attempt is dropped and retried. */
export const DEFAULT_DOWNLOAD_IDLE_MS = 30_000;

export interface DownloadContext {
  prompt: string;
  model: string;
  taskId: string;
  /** A caller's own id (a batch job id), for `{id}`. */
  id?: string;
}

export interface DownloadProgress {
  /** Position of the output in `outputs`. */
  index: number;
  /** Bytes written so far by the current attempt. */
  bytes: number;
  /** Content-Length, when the server sent one. */
  total?: number;
}

export interface DownloadOptions {
  /** Target folder; created when missing. */
  dir: string;
  /** File name template without extension; default `{date}-{slug}-{index}`. */
  name?: string;
  context: DownloadContext;
  signal?: AbortSignal;
  /** Reused connection pool; when omitted a private one is opened and closed. */
  transport?: HttpTransport;
  /** Largest output accepted, enforced while streaming. Default 512 MB. */
  maxBytes?: number;
  /** Downloads in flight at once. Default 4. */
  concurrency?: number;
  /** Retries per output after a cut-off body, a network error or a retryable HTTP status. Default 3. */
  retries?: number;
  /** Deadline per attempt. Default 10 minutes. */
  timeoutMs?: number;
  /** Longest silence of a body before the attempt is dropped and retried. Default 30 s. */
  idleTimeoutMs?: number;
  onProgress?: (event: DownloadProgress) => void;
  /** Injection points for tests: the backoff's sleep and jitter, and the clock for `{date}`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => Date;
}

export interface DownloadedFile {
  /** Position of the output in `outputs`. */
  index: number;
  /** Absolute path of the written (or reused identical) file. */
  file: string;
  bytes: number;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
  contentType: string;
  /** The URL it came from (absent for base64 outputs). */
  url?: string;
}

const BASE64_STEP = 1 << 20;
const WRITE_BATCH = 1 << 20;
const MAX_SUFFIX = 10_000;

/** A failure worth another attempt, with the server's wait hint if it gave one. */
class RetryableFailure {
  constructor(
    readonly error: JimengError,
    readonly hintMs?: number,
  ) {}
}

interface Written {
  temp: string;
  bytes: number;
  sha256: string;
  head: Uint8Array;
  /** The last bytes, for the formats whose end says whether the file is complete. */
  tail: Uint8Array;
  declaredType?: string;
}

/**
 * Downloads every output into `options.dir`, at most `concurrency` at a time, and returns one record per
 * output in order. Rejects with the first failure (other downloads in flight are stopped and their temp files
 * removed; files already completed stay), with ValidationError for a bad name template, or with AbortError.
 */
export async function downloadOutputs(
  outputs: readonly TaskOutput[],
  options: DownloadOptions,
): Promise<DownloadedFile[]> {
  const template = options.name ?? DEFAULT_NAME_TEMPLATE;
  checkNameTemplate(template);
  outputs.forEach(checkOutput);
  throwIfAborted(options.signal);
  if (outputs.length === 0) return [];

  const dir = resolve(options.dir);
  await createFolder(dir);

  const date = options.now?.() ?? new Date();
  const transport = options.transport ?? new HttpTransport();
  const stop = new AbortController();
  const onUserAbort = () => stop.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onUserAbort, { once: true });

  // Names are claimed one output at a time, so identical outputs of one call resolve to one file.
  let placing: Promise<unknown> = Promise.resolve();
  const serialise = <T>(step: () => Promise<T>): Promise<T> => {
    const run = placing.then(step, step);
    placing = run.catch(() => undefined);
    return run;
  };

  const results: DownloadedFile[] = [];
  let firstError: unknown;
  let next = 0;
  const worker = async () => {
    while (next < outputs.length && !stop.signal.aborted) {
      const index = next++;
      const base = renderName(template, { ...options.context, index, date });
      try {
        results[index] = await downloadOne(outputs[index] as TaskOutput, index, base, dir, transport, {
          ...options,
          signal: stop.signal,
          serialise,
        });
      } catch (error) {
        firstError ??= error;
        stop.abort(error);
      }
    }
  };

  try {
    const limit = Math.floor(options.concurrency ?? DEFAULT_DOWNLOAD_CONCURRENCY);
    const workers = Number.isFinite(limit) && limit >= 1 ? Math.min(limit, outputs.length) : 1;
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    options.signal?.removeEventListener("abort", onUserAbort);
    if (!options.transport) await transport.close();
  }
  if (options.signal?.aborted) throw new AbortError(undefined, { cause: options.signal.reason });
  if (firstError !== undefined) throw firstError;
  return results;
}

function checkOutput(output: TaskOutput, index: number): void {
  if (output.url !== undefined) {
    let protocol: string;
    try {
      protocol = new URL(output.url).protocol;
    } catch {
      throw new JimengError(`output ${index + 1} has an invalid URL`, { code: "UNSAFE_OUTPUT_URL" });
    }
    if (protocol !== "http:" && protocol !== "https:") {
      throw new JimengError(
        `output ${index + 1} has a ${protocol} URL; only http(s) outputs are downloaded`,
        { code: "UNSAFE_OUTPUT_URL", hint: "the server returned an unexpected output; nothing was written" },
      );
    }
    return;
  }
  if (output.base64 === undefined || output.base64 === "") {
    throw new JimengError(`output ${index + 1} has neither a URL nor base64 data`, { code: "EMPTY_OUTPUT" });
  }
}

async function downloadOne(
  output: TaskOutput,
  index: number,
  base: string,
  dir: string,
  transport: HttpTransport,
  options: DownloadOptions & {
    signal: AbortSignal;
    serialise: <T>(step: () => Promise<T>) => Promise<T>;
  },
): Promise<DownloadedFile> {
  const retries = options.retries ?? DEFAULT_DOWNLOAD_RETRIES;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(options.signal);
    const temp = join(dir, `.${base}.${randomBytes(4).toString("hex")}.part`);
    try {
      const written =
        output.url !== undefined
          ? await fetchUrl(output.url, output.headers, temp, index, transport, options)
          : await decodeBase64(output.base64 ?? "", temp, index, options);
      checkFormat(written, index, output.contentType);
      const placed = await options.serialise(() => place(written, base, dir, output.contentType));
      return {
        index,
        file: placed.file,
        bytes: written.bytes,
        sha256: written.sha256,
        contentType: placed.contentType,
        ...(output.url !== undefined ? { url: output.url } : {}),
      };
    } catch (caught) {
      await rm(temp, { force: true });
      if (options.signal.aborted) throw new AbortError(undefined, { cause: options.signal.reason });
      if (!(caught instanceof RetryableFailure)) throw caught;
      if (attempt >= retries) throw caught.error;
      await sleep(retryDelay(attempt, caught.hintMs, options.random), options.signal);
    }
  }
}

async function fetchUrl(
  url: string,
  headers: TaskOutput["headers"],
  temp: string,
  index: number,
  transport: HttpTransport,
  options: DownloadOptions & { signal: AbortSignal },
): Promise<Written> {
  const host = new URL(url).host;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  let response: Awaited<ReturnType<HttpTransport["stream"]>>;
  try {
    response = await transport.stream(url, {
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_DOWNLOAD_IDLE_MS,
      headers: { accept: "image/*, video/*, */*;q=0.5", ...headers },
    });
  } catch (error) {
    if (error instanceof NetworkError || error instanceof TimeoutError) throw new RetryableFailure(error);
    throw error;
  }

  const { status, body } = response;
  if (status < 200 || status >= 300) {
    body.destroy();
    const error = new DownloadError(`downloading output ${index + 1} from ${host} failed: HTTP ${status}`, {
      code: "DOWNLOAD_FAILED",
      httpStatus: status,
      retryable: true,
      hint:
        status === 403 || status === 404 || status === 410
          ? "the output URL may have expired; fetch the task's status again for fresh URLs"
          : "try again later",
    });
    const failure = { kind: "response", status, throttled: status === 429 } as const;
    if (isRetryable(failure, true)) throw new RetryableFailure(error, parseRetryAfter(response.header));
    throw error;
  }

  const lengthHeader = response.header("content-length");
  const total = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  if (total !== undefined && total > maxBytes) {
    body.destroy();
    throw tooLarge(index, total, maxBytes);
  }

  const written = await write(body as AsyncIterable<Uint8Array>, temp, index, maxBytes, total, options, host);
  if (total !== undefined && written.bytes !== total) {
    throw new RetryableFailure(cutOff(index, host, `${written.bytes} of ${total} bytes`));
  }
  const declaredType = response.header("content-type");
  return declaredType === undefined ? written : { ...written, declaredType };
}

async function decodeBase64(
  text: string,
  temp: string,
  index: number,
  options: DownloadOptions & { signal: AbortSignal },
): Promise<Written> {
  let start = 0;
  let declaredType: string | undefined;
  if (text.startsWith("data:")) {
    const comma = text.indexOf(",");
    start = comma + 1;
    declaredType = text.slice(5, comma).split(";")[0] || undefined;
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  const written = await write(base64Chunks(text, start, index), temp, index, maxBytes, undefined, options);
  return declaredType === undefined ? written : { ...written, declaredType };
}

/** Decodes `text` from `start` in slices, so only one slice's bytes exist at a time beside the string. */
function* base64Chunks(text: string, start: number, index: number): Generator<Buffer> {
  let carry = "";
  for (let pos = start; pos < text.length; pos += BASE64_STEP) {
    const last = pos + BASE64_STEP >= text.length;
    let piece = carry + text.slice(pos, pos + BASE64_STEP);
    if (/\s/.test(piece)) piece = piece.replace(/\s+/g, "");
    const valid = last ? /^[A-Za-z0-9+/_-]*={0,2}$/ : /^[A-Za-z0-9+/_-]*$/;
    if (!valid.test(piece)) {
      throw new DownloadError(`output ${index + 1} is not valid base64`, { code: "INVALID_OUTPUT" });
    }
    const usable = last ? piece.length : piece.length - (piece.length % 4);
    if (usable > 0) yield Buffer.from(piece.slice(0, usable), "base64");
    carry = piece.slice(usable);
  }
}

/**
 * Streams `source` into `temp` (created exclusively), hashing, counting and capping as it goes. Chunks are
 * written in batches of about 1 MB, one batch in flight while the next is received, so at most ~2 MB of the
 * body is in memory at any time.
 */
async function write(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  temp: string,
  index: number,
  maxBytes: number,
  total: number | undefined,
  options: DownloadOptions & { signal: AbortSignal },
  host?: string,
): Promise<Written> {
  const hash = createHash("sha256");
  let bytes = 0;
  let head = new Uint8Array(0);
  let tail: Uint8Array = new Uint8Array(0);
  let handle: FileHandle;
  try {
    handle = await open(temp, "wx");
  } catch (error) {
    throw fileError(`cannot write output ${index + 1} to disk`, error);
  }

  // The write in flight never rejects: its failure is kept and rethrown at the next batch.
  let writeError: JimengError | undefined;
  let writing: Promise<void> = Promise.resolve();
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  const flush = async () => {
    await writing;
    if (writeError) throw writeError;
    if (batch.length === 0) return;
    const buffers = batch;
    batch = [];
    batchBytes = 0;
    writing = handle.writev(buffers).then(
      () => undefined,
      (error: unknown) => {
        writeError = fileError(`cannot write output ${index + 1} to disk`, error);
      },
    );
  };

  try {
    try {
      for await (const chunk of source) {
        if (options.signal.aborted) break;
        bytes += chunk.byteLength;
        if (bytes > maxBytes) throw tooLarge(index, bytes, maxBytes, true);
        if (head.byteLength < 32) head = Buffer.concat([head, chunk.subarray(0, 32 - head.byteLength)]);
        tail = keepTail(tail, chunk);
        hash.update(chunk);
        batch.push(chunk);
        batchBytes += chunk.byteLength;
        if (batchBytes >= WRITE_BATCH) await flush();
        options.onProgress?.({ index, bytes, ...(total !== undefined ? { total } : {}) });
      }
    } catch (error) {
      if (options.signal.aborted || error instanceof JimengError) throw error;
      const code = (error as { code?: unknown }).code;
      throw new RetryableFailure(cutOff(index, host, typeof code === "string" ? code : "connection lost"));
    }
    if (options.signal.aborted) throw new AbortError(undefined, { cause: options.signal.reason });
    await flush();
    await writing;
    if (writeError) throw writeError;
  } catch (error) {
    if (options.signal.aborted) throw new AbortError(undefined, { cause: options.signal.reason });
    throw error;
  } finally {
    await writing;
    await handle.close();
  }
  return { temp, bytes, sha256: hash.digest("hex"), head, tail };
}

const TAIL_BYTES = 64;

function keepTail(tail: Uint8Array, chunk: Uint8Array): Uint8Array {
  if (chunk.byteLength >= TAIL_BYTES) return chunk.slice(chunk.byteLength - TAIL_BYTES);
  const joined = Buffer.concat([tail, chunk]);
  return joined.subarray(Math.max(0, joined.byteLength - TAIL_BYTES));
}

/** Renames `written.temp` to `<base>.<ext>`, or `<base>-N.<ext>` when a different file holds that name. */
async function place(
  written: Written,
  base: string,
  dir: string,
  outputType: string | undefined,
): Promise<{ file: string; contentType: string }> {
  const { extension, contentType } = mediaType(written, outputType);
  for (let n = 0; n <= MAX_SUFFIX; n++) {
    const file = join(dir, `${base}${n === 0 ? "" : `-${n}`}.${extension}`);
    try {
      // Claim the name atomically (fails if anything, even a dangling symlink, is there), then fill it.
      await (await open(file, "wx")).close();
    } catch (error) {
      if ((error as { code?: unknown }).code !== "EEXIST") throw fileError(`cannot create ${file}`, error);
      if (await sameFile(file, written)) {
        await rm(written.temp, { force: true });
        return { file, contentType };
      }
      continue;
    }
    try {
      await rename(written.temp, file);
    } catch (error) {
      await rm(file, { force: true });
      throw fileError(`cannot move the download into ${file}`, error);
    }
    return { file, contentType };
  }
  throw new JimengError(`too many files named ${base}.${extension} in ${dir}`, { code: "FILE_WRITE_FAILED" });
}

/**
 * A saved output is the format its type and extension claim, and complete where the format says so cheaply
 * (a PNG ends with IEND, a JPEG with EOI, a WebP is as long as its RIFF header says). Otherwise the download
 * failed (typed, retried from zero).
 */
function checkFormat(written: Written, index: number, outputType: string | undefined): void {
  const { extension } = mediaType(written, outputType, index);
  const incomplete = incompleteFormat(written, extension);
  if (incomplete) {
    throw new RetryableFailure(
      new DownloadError(`output ${index + 1} is an incomplete ${incomplete}`, {
        code: "DOWNLOAD_INCOMPLETE",
        hint: "the server sent a cut-off file; downloads are retried from zero",
      }),
    );
  }
}

/** An empty IEND chunk (its CRC, the last 4 bytes, left unchecked). */
const PNG_END = Buffer.from("0000000049454e44", "hex");

/** What is missing at the end of a file of this format, or undefined when it looks complete. */
function incompleteFormat(written: Written, extension: string): string | undefined {
  const tail = Buffer.from(written.tail);
  switch (extension) {
    case "png":
      return tail.length >= 12 && tail.subarray(tail.length - 12, tail.length - 4).equals(PNG_END)
        ? undefined
        : "PNG (no IEND chunk)";
    case "jpg":
      // FF D9 cannot occur inside entropy-coded data (FF is stuffed with 00 there); trailing padding is allowed.
      return tail.includes(Buffer.from([0xff, 0xd9])) ? undefined : "JPEG (no end-of-image marker)";
    case "webp": {
      const head = Buffer.from(written.head);
      if (head.length < 8) return "WebP (no RIFF header)";
      return head.readUInt32LE(4) + 8 <= written.bytes
        ? undefined
        : "WebP (shorter than its RIFF header says)";
    }
    default:
      return undefined;
  }
}

function mediaType(
  written: Written,
  outputType: string | undefined,
  index = 0,
): { extension: string; contentType: string } {
  const sniffed = sniffMedia(written.head);
  if (sniffed) return sniffed;
  const declared = (written.declaredType ?? outputType)?.split(";")[0]?.trim().toLowerCase();
  // A body that claims to be an image or a video must start like one: HTML served as image/png is not saved.
  if (declared !== undefined && /^(image|video)\//.test(declared)) {
    throw new RetryableFailure(
      new DownloadError(
        `output ${index + 1} was sent as ${declared}, but its bytes are not ${declared === "video/mp4" ? "an MP4 video" : `a ${declared.slice(6).toUpperCase()} image`}`,
        {
          code: "INVALID_OUTPUT",
          hint: "the output URL may have expired or be an error page; fetch the task's status again",
        },
      ),
    );
  }
  if (declared !== undefined && /^(text\/|application\/(json|xml|problem))/.test(declared)) {
    throw new DownloadError(`the server sent ${declared} instead of an image or video`, {
      code: "INVALID_OUTPUT",
      hint: "the output URL may have expired or be an error page; fetch the task's status again",
    });
  }
  return { extension: "bin", contentType: declared ?? "application/octet-stream" };
}

async function sameFile(file: string, written: Written): Promise<boolean> {
  const info = await lstat(file).catch(() => undefined);
  if (!info?.isFile() || info.size !== written.bytes) return false;
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex") === written.sha256;
}

function tooLarge(index: number, bytes: number, maxBytes: number, streaming = false): DownloadError {
  const size = streaming ? `more than ${formatBytes(maxBytes)}` : formatBytes(bytes);
  return new DownloadError(`output ${index + 1} is ${size}; the download limit is ${formatBytes(maxBytes)}`, {
    code: "DOWNLOAD_TOO_LARGE",
    hint: "raise maxBytes if you expect outputs this large",
  });
}

function cutOff(index: number, host: string | undefined, detail: string): NetworkError {
  return new NetworkError(
    `the download of output ${index + 1}${host ? ` from ${host}` : ""} was cut off (${detail})`,
    {
      code: "DOWNLOAD_TRUNCATED",
      notSent: false,
      hint: "check your network; downloads are retried from zero",
    },
  );
}

function fileError(message: string, cause: unknown): JimengError {
  const code = (cause as { code?: unknown }).code;
  return new JimengError(`${message}${typeof code === "string" ? ` (${code})` : ""}`, {
    code: "FILE_WRITE_FAILED",
    hint: "check the folder's permissions and free space",
    cause,
  });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
}
