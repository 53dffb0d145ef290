/**
 * The pixel sizes a jimeng-api server asks upstream for: the ratio × resolution table with the server's
 * per-model and per-region special cases.
 */
import { SEEDREAM_SIZES_2K, scaledSizes } from "../seedream-sizes.js";
import type { SessionRegion } from "../types.js";
import type { ImageRatio, ImageResolution } from "./catalog.js";

const RATIO_CODES: Record<ImageRatio, number> = {
  "1:1": 1,
  "4:3": 4,
  "3:4": 2,
  "16:9": 3,
  "9:16": 5,
  "3:2": 7,
  "2:3": 6,
  "21:9": 8,
};

type SizeTable = Record<ImageRatio, readonly [number, number]>;

const SIZES: Record<ImageResolution, SizeTable> = {
  // The server's 1k table swaps 4:3 and 3:4 (portrait 4:3); reproduced as it is, since that is what you get.
  "1k": {
    "1:1": [1024, 1024],
    "4:3": [768, 1024],
    "3:4": [1024, 768],
    "16:9": [1024, 576],
    "9:16": [576, 1024],
    "3:2": [1024, 682],
    "2:3": [682, 1024],
    "21:9": [1195, 512],
  },
  "2k": SEEDREAM_SIZES_2K,
  "4k": scaledSizes(2),
};

const NANOBANANAPRO_4K: SizeTable = {
  "1:1": [4096, 4096],
  "4:3": [4693, 3520],
  "3:4": [3520, 4693],
  "16:9": [5404, 3040],
  "9:16": [3040, 5404],
  "3:2": [4992, 3328],
  "2:3": [3328, 4992],
  "21:9": [6197, 2656],
};

export interface PixelSize {
  width: number;
  height: number;
  /** The upstream `image_ratio` code (4k adds 100, except nanobananapro). */
  ratioCode: number;
  resolution: ImageResolution;
}

/** The pixel size the server asks upstream for, including its per-model and per-region special cases. */
export function imagePixelSize(
  model: string,
  ratio: ImageRatio = "1:1",
  resolution: ImageResolution = "2k",
  region: SessionRegion = "cn",
): PixelSize {
  if (model === "nanobanana" && region === "us") {
    return { width: 1024, height: 1024, ratioCode: 1, resolution: "2k" };
  }
  const effective: ImageResolution = model === "nanobanana" && region !== "cn" ? "1k" : resolution;
  const code = RATIO_CODES[ratio];
  if (model === "nanobananapro" && effective === "4k") {
    const [width, height] = NANOBANANAPRO_4K[ratio];
    return { width, height, ratioCode: code, resolution: "4k" };
  }
  const [width, height] = SIZES[effective][ratio];
  return { width, height, ratioCode: effective === "4k" ? 100 + code : code, resolution: effective };
}
