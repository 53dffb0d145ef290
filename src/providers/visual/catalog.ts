/**
 * The Visual API's model catalog: one capability record per req_key (what the model accepts, its image
 * limits, polling priors) with how its body is built (sync or async action, sizing, size tables, scale),
 * friendly aliases, and model lookup.
 */
import { ValidationError } from "../../errors.js";
import type { ImageLimits, ModelCapability, TaskKind } from "../types.js";
import {
  isVisualModelId,
  MAX_PROMPT_LENGTH,
  RECAMERA_TEMPLATES,
  VIDEO_ASPECT_RATIOS,
  type VisualModelId,
} from "./schemas.js";

const MB = 1024 * 1024;

const IMAGE_RATIOS = ["1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16", "21:9"] as const;
type SizeTable = Record<string, Record<string, readonly [number, number]>>;

/** Landscape sizes per ratio → a table with the portrait ratios swapped in. */
function table(
  landscape: Record<string, readonly [number, number]>,
): Record<string, readonly [number, number]> {
  const out: Record<string, readonly [number, number]> = {};
  for (const [ratio, [w, h]] of Object.entries(landscape)) {
    out[ratio] = [w, h];
    const [a, b] = ratio.split(":");
    if (a !== b) out[`${b}:${a}`] = [h, w];
  }
  return out;
}

const FOUR_X_2K = table({
  "1:1": [2048, 2048],
  "4:3": [2304, 1728],
  "3:2": [2496, 1664],
  "16:9": [2560, 1440],
  "21:9": [3024, 1296],
});
const SIZES_40: SizeTable = {
  "2k": FOUR_X_2K,
  "4k": table({
    "1:1": [4096, 4096],
    "4:3": [4694, 3520],
    "3:2": [4992, 3328],
    "16:9": [5404, 3040],
    "21:9": [6198, 2656],
  }),
};
const SIZES_46: SizeTable = {
  "2k": FOUR_X_2K,
  "4k": table({
    "1:1": [4096, 4096],
    "4:3": [4693, 3520],
    "3:2": [4992, 3328],
    "16:9": [5404, 3040],
    "21:9": [6197, 2656],
  }),
};
const THREE_X_1K = table({
  "1:1": [1328, 1328],
  "4:3": [1472, 1104],
  "3:2": [1584, 1056],
  "16:9": [1664, 936],
  "21:9": [2016, 864],
});
const SIZES_3X: SizeTable = { "1k": THREE_X_1K, "2k": FOUR_X_2K };
const SIZES_I2I: SizeTable = { "1k": THREE_X_1K };
const SIZES_21: SizeTable = {
  "1k": table({ "1:1": [512, 512], "4:3": [512, 384], "3:2": [512, 341], "16:9": [512, 288] }),
};

/** A model's capability record and how its native body is built. */
export interface VisualModelSpec {
  capability: ModelCapability;
  action: "async" | "process";
  /** Output size: `area` (4.x: size or width/height), `wh` (width/height), `aspect` (video aspect_ratio), none. */
  sizing: "area" | "wh" | "aspect" | "none";
  sizes?: SizeTable;
  defaultResolution?: string;
  /** Range `strength` maps onto, when the model has a `scale`. */
  scale?: { min: number; max: number; integer: boolean };
  /** Video: `duration` maps onto `frames`. */
  frames?: boolean;
}

const IMAGE_FORMATS = ["jpeg", "png"] as const;
const FOUR_X_IMAGES = (max: number): ImageLimits => ({
  min: 0,
  max,
  formats: IMAGE_FORMATS,
  maxBytes: 15 * MB,
  maxSide: 4096,
  maxAspectRatio: 3,
  transport: "url",
});
const VIDEO_IMAGES = (count: number, roles: readonly string[], min = count): ImageLimits => ({
  min,
  max: count,
  formats: IMAGE_FORMATS,
  maxBytes: Math.floor(4.7 * MB),
  maxSide: 4096,
  minShortSide: 320,
  maxAspectRatio: 3,
  ...(count > 1 ? { sameAspectRatio: true } : {}),
  transport: "url-or-base64",
  roles,
});

function capability(
  fields: Omit<ModelCapability, "provider" | "maxPromptLength"> & { maxPromptLength?: number },
): ModelCapability {
  return { provider: "visual", maxPromptLength: MAX_PROMPT_LENGTH, ...fields };
}

/** A model whose spec is another's with its own name (the 720p/1080p pairs, 3.1/3.0). */
function variant(
  base: VisualModelSpec,
  fields: Pick<ModelCapability, "id" | "aliases" | "title"> & Partial<ModelCapability>,
): VisualModelSpec {
  return { ...base, capability: { ...base.capability, ...fields } };
}

const VIDEO_EXPECTED = { min: 30, typical: 90 };
const VIDEO_1080_EXPECTED = { min: 45, typical: 150 };
const DURATIONS = [5, 10] as const;

const T2I_V31: VisualModelSpec = {
  capability: capability({
    id: "jimeng_t2i_v31",
    aliases: ["jimeng-3.1", "3.1"],
    title: "Jimeng 3.1 text-to-image",
    kinds: ["generate"],
    output: "image",
    options: ["ratio", "resolution", "size", "seed"],
    ratios: IMAGE_RATIOS,
    resolutions: ["1k", "2k"],
    images: null,
    expectedSeconds: { min: 5, typical: 15 },
  }),
  action: "async",
  sizing: "wh",
  sizes: SIZES_3X,
  defaultResolution: "1k",
};

const T2V_V30: VisualModelSpec = {
  capability: capability({
    id: "jimeng_t2v_v30",
    aliases: ["jimeng-video-3.0", "video-3.0"],
    title: "Jimeng Video 3.0 720p text-to-video",
    kinds: ["video"],
    output: "video",
    options: ["ratio", "duration", "seed"],
    ratios: VIDEO_ASPECT_RATIOS,
    durations: DURATIONS,
    images: null,
    expectedSeconds: VIDEO_EXPECTED,
  }),
  action: "async",
  sizing: "aspect",
  frames: true,
};

const I2V_FIRST_V30: VisualModelSpec = {
  capability: capability({
    id: "jimeng_i2v_first_v30",
    aliases: ["jimeng-i2v-3.0", "jimeng-video-3.0-i2v"],
    title: "Jimeng Video 3.0 720p first-frame image-to-video",
    kinds: ["video"],
    output: "video",
    options: ["duration", "seed"],
    durations: DURATIONS,
    images: VIDEO_IMAGES(1, ["first frame"]),
    expectedSeconds: VIDEO_EXPECTED,
    notes: "The video's aspect ratio follows the image.",
  }),
  action: "async",
  sizing: "none",
  frames: true,
};

const I2V_FIRST_TAIL_V30: VisualModelSpec = {
  capability: capability({
    id: "jimeng_i2v_first_tail_v30",
    aliases: ["jimeng-first-tail-3.0", "jimeng-video-3.0-first-tail"],
    title: "Jimeng Video 3.0 720p first + last frame to video",
    kinds: ["video"],
    output: "video",
    options: ["duration", "seed"],
    durations: DURATIONS,
    images: VIDEO_IMAGES(2, ["first frame", "last frame"]),
    expectedSeconds: VIDEO_EXPECTED,
  }),
  action: "async",
  sizing: "none",
  frames: true,
};

const SPECS: Record<VisualModelId, VisualModelSpec> = {
  jimeng_t2i_v40: {
    capability: capability({
      id: "jimeng_t2i_v40",
      aliases: ["jimeng-4.0", "4.0", "seedream-4.0"],
      title: "Jimeng 4.0: text-to-image, editing and multi-image composition",
      kinds: ["generate", "compose"],
      output: "image",
      options: ["ratio", "resolution", "size", "count", "strength"],
      ratios: IMAGE_RATIOS,
      resolutions: ["2k", "4k"],
      images: FOUR_X_IMAGES(10),
      countMode: "single-or-set",
      expectedSeconds: { min: 8, typical: 25 },
      defaultFor: ["generate", "compose"],
      notes: "Reference images by URL only. count 1 forces a single image; more lets the model make a set.",
    }),
    action: "async",
    sizing: "area",
    sizes: SIZES_40,
    defaultResolution: "2k",
    scale: { min: 0, max: 1, integer: false },
  },
  jimeng_seedream46_cvtob: {
    capability: capability({
      id: "jimeng_seedream46_cvtob",
      aliases: ["jimeng-4.6", "4.6", "seedream-4.6"],
      title: "Jimeng 4.6: portraits, graphic design and stylisation, up to 14 references",
      kinds: ["generate", "compose"],
      output: "image",
      options: ["ratio", "resolution", "size", "count", "strength"],
      ratios: IMAGE_RATIOS,
      resolutions: ["2k", "4k"],
      images: FOUR_X_IMAGES(14),
      countMode: "single-or-set",
      expectedSeconds: { min: 8, typical: 25 },
      notes: "Reference images by URL only. scale is an integer 1–100.",
    }),
    action: "async",
    sizing: "area",
    sizes: SIZES_46,
    defaultResolution: "2k",
    scale: { min: 1, max: 100, integer: true },
  },
  jimeng_t2i_v31: T2I_V31,
  jimeng_t2i_v30: variant(T2I_V31, {
    id: "jimeng_t2i_v30",
    aliases: ["jimeng-3.0", "3.0"],
    title: "Jimeng 3.0 text-to-image",
  }),
  jimeng_high_aes_general_v21_L: {
    capability: capability({
      id: "jimeng_high_aes_general_v21_L",
      aliases: ["jimeng-2.1", "2.1"],
      title: "Jimeng 2.1 text-to-image (synchronous CVProcess)",
      kinds: ["generate"],
      output: "image",
      options: ["ratio", "size", "seed", "watermark"],
      ratios: ["1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16"],
      images: null,
      expectedSeconds: { min: 3, typical: 8 },
      notes:
        "Synchronous: answers in one call; its task id is local to the process. Sizes 256–768, doubled by use_sr.",
    }),
    action: "process",
    sizing: "wh",
    sizes: SIZES_21,
    defaultResolution: "1k",
  },
  jimeng_i2i_v30: {
    capability: capability({
      id: "jimeng_i2i_v30",
      aliases: ["jimeng-i2i-3.0", "i2i-3.0"],
      title: "Jimeng 3.0 image-to-image (instruction editing)",
      kinds: ["compose"],
      output: "image",
      options: ["ratio", "size", "seed", "strength"],
      ratios: IMAGE_RATIOS,
      images: {
        min: 1,
        max: 1,
        formats: IMAGE_FORMATS,
        maxBytes: Math.floor(4.7 * MB),
        maxSide: 4096,
        maxAspectRatio: 3,
        transport: "url-or-base64",
      },
      expectedSeconds: { min: 5, typical: 15 },
      notes: "Takes local files (sent inline as base64) as well as URLs.",
    }),
    action: "async",
    sizing: "wh",
    sizes: SIZES_I2I,
    defaultResolution: "1k",
    scale: { min: 0, max: 1, integer: false },
  },
  jimeng_t2v_v30: T2V_V30,
  jimeng_t2v_v30_1080p: variant(T2V_V30, {
    id: "jimeng_t2v_v30_1080p",
    aliases: ["jimeng-video-3.0-1080p", "video-3.0-1080p"],
    title: "Jimeng Video 3.0 1080p text-to-video",
    expectedSeconds: VIDEO_1080_EXPECTED,
  }),
  jimeng_i2v_first_v30: I2V_FIRST_V30,
  jimeng_i2v_first_v30_1080: variant(I2V_FIRST_V30, {
    id: "jimeng_i2v_first_v30_1080",
    aliases: ["jimeng-i2v-3.0-1080p", "jimeng-video-3.0-i2v-1080p"],
    title: "Jimeng Video 3.0 1080p first-frame image-to-video",
    expectedSeconds: VIDEO_1080_EXPECTED,
  }),
  jimeng_i2v_first_tail_v30: I2V_FIRST_TAIL_V30,
  jimeng_i2v_first_tail_v30_1080: variant(I2V_FIRST_TAIL_V30, {
    id: "jimeng_i2v_first_tail_v30_1080",
    aliases: ["jimeng-first-tail-3.0-1080p", "jimeng-video-3.0-first-tail-1080p"],
    title: "Jimeng Video 3.0 1080p first + last frame to video",
    expectedSeconds: VIDEO_1080_EXPECTED,
  }),
  jimeng_i2v_recamera_v30: {
    capability: capability({
      id: "jimeng_i2v_recamera_v30",
      aliases: ["jimeng-recamera-3.0", "jimeng-video-3.0-recamera"],
      title: "Jimeng Video 3.0 720p image-to-video with camera moves",
      kinds: ["video"],
      output: "video",
      options: ["duration", "seed"],
      durations: DURATIONS,
      images: VIDEO_IMAGES(1, ["first frame"]),
      expectedSeconds: VIDEO_EXPECTED,
      notes: `Needs extra.template_id (${RECAMERA_TEMPLATES.join(", ")}) and extra.camera_strength (weak, medium, strong).`,
    }),
    action: "async",
    sizing: "none",
    frames: true,
  },
  jimeng_ti2v_v30_pro: {
    capability: capability({
      id: "jimeng_ti2v_v30_pro",
      aliases: ["jimeng-video-3.0-pro", "video-3.0-pro"],
      title: "Jimeng Video 3.0 Pro 1080p, text or first frame to video",
      kinds: ["video"],
      output: "video",
      options: ["ratio", "duration", "seed"],
      ratios: VIDEO_ASPECT_RATIOS,
      durations: DURATIONS,
      images: VIDEO_IMAGES(1, ["first frame"], 0),
      expectedSeconds: VIDEO_1080_EXPECTED,
      defaultFor: ["video"],
      notes:
        "With a first frame the nearest ratio is chosen and the image centre-cropped; ratio applies to text only.",
    }),
    action: "async",
    sizing: "aspect",
    frames: true,
  },
};

/** Every Visual model's capability record, in registry order. */
export const VISUAL_MODELS: readonly ModelCapability[] = Object.values(SPECS).map((spec) => spec.capability);

/** CVProcess-only models answer synchronously. */
export function isProcessOnly(id: string): boolean {
  return isVisualModelId(id) && SPECS[id].action === "process";
}

export function visualModel(id: string): ModelCapability | undefined {
  return isVisualModelId(id) ? SPECS[id].capability : undefined;
}

/** A model by req_key or alias (case-insensitive), or the default for `kind`. */
export function resolveVisualModel(name: string | undefined, kind: TaskKind): ModelCapability {
  if (name === undefined || name === "") {
    const found = VISUAL_MODELS.find((model) => model.defaultFor?.includes(kind));
    if (found) return found;
    throw new ValidationError([{ path: "model", message: `no default Visual model for ${kind}` }]);
  }
  const wanted = name.trim().toLowerCase();
  const found = VISUAL_MODELS.find(
    (model) =>
      model.id.toLowerCase() === wanted || model.aliases.some((alias) => alias.toLowerCase() === wanted),
  );
  if (found) return found;
  const candidates = VISUAL_MODELS.filter((model) => model.kinds.includes(kind))
    .map((model) => model.aliases[0] ?? model.id)
    .join(", ");
  throw new ValidationError([{ path: "model", message: `unknown Visual model "${name}"` }], {
    message: `model: unknown Visual model "${name}"; for ${kind} use one of: ${candidates}`,
  });
}

/** How the body of a Visual model is built. */
export function visualSpec(id: VisualModelId): VisualModelSpec {
  return SPECS[id];
}
