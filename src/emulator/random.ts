import { createHash } from "node:crypto";

/** A small seeded PRNG (mulberry32): the emulator's faults and durations are reproducible from a seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable 32-bit number from any string (e.g. a task id), for deterministic per-task content. */
export function hashToSeed(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0);
}
