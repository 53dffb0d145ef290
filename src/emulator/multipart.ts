/**
 * A small multipart/form-data parser for request bodies held in memory (the emulator reads whole bodies).
 * Enough for what clients send: text fields and file parts, repeated names, quoted or bare boundaries.
 */

export interface MultipartPart {
  name: string;
  /** Present for file parts. */
  filename?: string;
  contentType?: string;
  data: Buffer;
}

export interface MultipartForm {
  /** Every part, in order. */
  parts: MultipartPart[];
  /** Text parts (no filename) by name; a repeated name keeps every value in order. */
  fields: Record<string, string[]>;
  /** File parts, in order. */
  files: MultipartPart[];
}

export class MultipartError extends Error {
  override name = "MultipartError";
}

/** The boundary parameter of a multipart/form-data content type, or undefined. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType.trim())) return undefined;
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");

/** Parses a whole multipart/form-data body. Throws MultipartError when it is malformed. */
export function parseMultipart(body: Buffer, contentType: string | undefined): MultipartForm {
  const boundary = boundaryOf(contentType);
  if (!boundary) throw new MultipartError("not multipart/form-data, or no boundary");
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);

  let position = body.indexOf(delimiter);
  if (position < 0) throw new MultipartError("no opening boundary");
  const parts: MultipartPart[] = [];
  for (;;) {
    position += delimiter.length;
    if (body[position] === 0x2d && body[position + 1] === 0x2d) break; // "--": the closing boundary
    // Transport padding (spaces/tabs) may follow a boundary before its CRLF.
    while (body[position] === 0x20 || body[position] === 0x09) position++;
    if (!body.subarray(position, position + 2).equals(CRLF))
      throw new MultipartError("malformed boundary line");
    position += 2;
    const headerEnd = body.indexOf(HEADER_END, position);
    if (headerEnd < 0) throw new MultipartError("part headers never end");
    const headers = parseHeaders(body.toString("utf8", position, headerEnd));
    const dataStart = headerEnd + HEADER_END.length;
    const dataEnd = body.indexOf(nextDelimiter, dataStart);
    if (dataEnd < 0) throw new MultipartError("no closing boundary");
    parts.push(toPart(headers, body.subarray(dataStart, dataEnd)));
    position = dataEnd + CRLF.length;
  }

  const fields: Record<string, string[]> = {};
  const files: MultipartPart[] = [];
  for (const part of parts) {
    if (part.filename !== undefined) {
      files.push(part);
    } else {
      const values = fields[part.name] ?? [];
      values.push(part.data.toString("utf8"));
      fields[part.name] = values;
    }
  }
  return { parts, fields, files };
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function param(header: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, "i").exec(header);
  if (!match) return undefined;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : match[2]?.trim();
}

function toPart(headers: Record<string, string>, data: Buffer): MultipartPart {
  const disposition = headers["content-disposition"];
  if (!disposition || !/^form-data\b/i.test(disposition)) {
    throw new MultipartError("a part without Content-Disposition: form-data");
  }
  const name = param(disposition, "name");
  if (name === undefined) throw new MultipartError("a part without a name");
  const filename = param(disposition, "filename");
  const part: MultipartPart = { name, data };
  if (filename !== undefined) part.filename = filename;
  if (headers["content-type"]) part.contentType = headers["content-type"];
  return part;
}
