/**
 * Seedream 4.x image sizes per ratio at 2K, the table Volcengine documents; 4K doubles each side. Ark sends
 * them as `size`, jimeng-api servers ask upstream for them. Pure data.
 */
export const SEEDREAM_SIZES_2K = {
  "1:1": [2048, 2048],
  "4:3": [2304, 1728],
  "3:4": [1728, 2304],
  "16:9": [2560, 1440],
  "9:16": [1440, 2560],
  "3:2": [2496, 1664],
  "2:3": [1664, 2496],
  "21:9": [3024, 1296],
} as const satisfies Record<string, readonly [number, number]>;

export type SeedreamRatio = keyof typeof SEEDREAM_SIZES_2K;

/** The table with each side multiplied by `factor` (rounded). */
export function scaledSizes(factor: number): Record<SeedreamRatio, readonly [number, number]> {
  const scaled = {} as Record<SeedreamRatio, readonly [number, number]>;
  for (const [ratio, [width, height]] of Object.entries(SEEDREAM_SIZES_2K)) {
    scaled[ratio as SeedreamRatio] = [Math.round(width * factor), Math.round(height * factor)];
  }
  return scaled;
}

/** The 2K size of `ratio`, or undefined for a ratio the table does not have. */
export function seedreamSize2k(ratio: string): readonly [number, number] | undefined {
  return Object.hasOwn(SEEDREAM_SIZES_2K, ratio) ? SEEDREAM_SIZES_2K[ratio as SeedreamRatio] : undefined;
}
