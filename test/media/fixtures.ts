/** Crafted image headers: just enough bytes for a header reader, built byte by byte. */
import { deflateSync } from "node:zlib";

function u32be(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** A real (decodable) greyscale PNG of `width`×`height`, or with `pixels: false` only its signature and IHDR. */
export function png(width: number, height: number, options: { pixels?: boolean } = {}): Buffer {
  const chunk = (type: string, data: Buffer) =>
    Buffer.concat([u32be(data.length), Buffer.from(type), data, u32be(0)]);
  const ihdr = Buffer.concat([u32be(width), u32be(height), Buffer.from([8, 0, 0, 0, 0])]);
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr)];
  if (options.pixels !== false) {
    const rows = Buffer.alloc((width + 1) * height, 0x80);
    parts.push(chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0)));
  }
  return Buffer.concat(parts);
}

function segment(marker: number, payload: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(payload.length + 2);
  return Buffer.concat([Buffer.from([0xff, marker]), length, payload]);
}

/** A JPEG header: SOI, an APP0 (JFIF) and an APP1 segment, a DQT, then the frame header `sof` (C0 baseline, C2 progressive). */
export function jpeg(width: number, height: number, sof = 0xc0): Buffer {
  const frame = Buffer.alloc(15);
  frame[0] = 8;
  frame.writeUInt16BE(height, 1);
  frame.writeUInt16BE(width, 3);
  frame[5] = 3;
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    segment(0xe0, Buffer.from("JFIF\0\x01\x01\0\0\x01\0\x01\0\0", "latin1")),
    segment(0xe1, Buffer.alloc(300, 0x41)),
    segment(0xdb, Buffer.alloc(65, 1)),
    // A fill byte before the frame marker is legal.
    Buffer.from([0xff]),
    segment(sof, frame),
    segment(0xda, Buffer.alloc(10)),
    Buffer.from([0x12, 0x34, 0xff, 0xd9]),
  ]);
}

function riff(fourcc: string, payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32LE(payload.length);
  const body = Buffer.concat([Buffer.from("WEBP"), Buffer.from(fourcc), size, payload]);
  const total = Buffer.alloc(4);
  total.writeUInt32LE(body.length);
  return Buffer.concat([Buffer.from("RIFF"), total, body]);
}

/** Lossy WebP (VP8 chunk). */
export function webpLossy(width: number, height: number): Buffer {
  const data = Buffer.alloc(20);
  data.set([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a], 0);
  data.writeUInt16LE(width, 6);
  data.writeUInt16LE(height, 8);
  return riff("VP8 ", data);
}

/** Lossless WebP (VP8L chunk). */
export function webpLossless(width: number, height: number): Buffer {
  const data = Buffer.alloc(10);
  data[0] = 0x2f;
  const bits = (width - 1) | ((height - 1) << 14);
  data.writeUInt32LE(bits >>> 0, 1);
  return riff("VP8L", data);
}

/** Extended WebP (VP8X chunk) with a 24-bit canvas size. */
export function webpExtended(width: number, height: number): Buffer {
  const data = Buffer.alloc(10);
  data.writeUIntLE(width - 1, 4, 3);
  data.writeUIntLE(height - 1, 7, 3);
  return riff("VP8X", data);
}

export function dataUrl(bytes: Buffer, type = "image/png"): string {
  return `data:${type};base64,${bytes.toString("base64")}`;
}
