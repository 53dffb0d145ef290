import { deflateSync } from "node:zlib";
import { hashToSeed, seededRandom } from "./random.js";

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Encodes 8-bit RGB pixels (row-major, 3 bytes each) as a PNG. */
export function encodePng(width: number, height: number, rgb: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    rgb.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  }
  return Buffer.concat([
    SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw, { level: 1 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A procedural picture (soft gradient and rings), the same bytes for the same key every time. */
export function proceduralPng(key: string, width = 256, height = 256): Buffer {
  const random = seededRandom(hashToSeed(key));
  const [r0, g0, b0, r1, g1, b1] = Array.from({ length: 6 }, () => Math.floor(random() * 256)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const cx = random() * width;
  const cy = random() * height;
  const rings = 4 + Math.floor(random() * 12);
  const rgb = Buffer.alloc(width * height * 3);
  const scale = Math.max(width, height);
  // The ring brightness as a function of distance, tabulated once: the per-pixel work is a square root.
  const steps = 2048;
  const ringTable = new Float64Array(steps + 1);
  for (let i = 0; i <= steps; i++)
    ringTable[i] = 0.7 + 0.3 * (0.5 + 0.5 * Math.cos((i / steps) * 1.5 * rings * Math.PI * 2));
  for (let y = 0; y < height; y++) {
    const dy2 = (y - cy) * (y - cy);
    for (let x = 0; x < width; x++) {
      const t = (x + y) / (width + height);
      const d = Math.sqrt((x - cx) * (x - cx) + dy2) / scale / 1.5;
      const ring = ringTable[Math.min(steps, Math.floor(d * steps))] as number;
      const i = (y * width + x) * 3;
      rgb[i] = (r0 + (r1 - r0) * t) * ring;
      rgb[i + 1] = (g0 + (g1 - g0) * t) * ring;
      rgb[i + 2] = (b0 + (b1 - b0) * t) * ring;
    }
  }
  return encodePng(width, height, rgb);
}
