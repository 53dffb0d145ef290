import { hashToSeed, seededRandom } from "./random.js";

function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(body.length + 8, 0);
  header.write(type, 4, "ascii");
  return Buffer.concat([header, body]);
}

/** mvhd version 0: timescale 1000, the given duration, unity matrix, next track id 2. */
function movieHeader(durationMs: number): Buffer {
  const b = Buffer.alloc(100);
  b.writeUInt32BE(0, 0); // version + flags
  b.writeUInt32BE(1000, 12); // timescale
  b.writeUInt32BE(durationMs, 16);
  b.writeUInt32BE(0x00010000, 20); // rate 1.0
  b.writeUInt16BE(0x0100, 24); // volume 1.0
  const matrix = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];
  matrix.forEach((value, i) => {
    b.writeUInt32BE(value, 36 + i * 4);
  });
  b.writeUInt32BE(2, 96); // next track id
  return b;
}

/**
 * A small, structurally valid ISO-BMFF (MP4) file: ftyp, moov/mvhd and an mdat of deterministic bytes.
 * Enough for clients to sniff, stream, hash and save; it carries no decodable frames.
 */
export function tinyMp4(key: string, durationMs = 5000, payloadBytes = 16 * 1024): Buffer {
  const random = seededRandom(hashToSeed(key));
  const payload = Buffer.alloc(payloadBytes);
  for (let i = 0; i < payloadBytes; i++) payload[i] = Math.floor(random() * 256);
  const ftyp = box(
    "ftyp",
    Buffer.from("isom", "ascii"),
    Buffer.from([0, 0, 2, 0]),
    Buffer.from("isomiso2mp41", "ascii"),
  );
  return Buffer.concat([ftyp, box("moov", box("mvhd", movieHeader(durationMs))), box("mdat", payload)]);
}
