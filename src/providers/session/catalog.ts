/**
 * The session provider's model catalog: one capability record per jimeng-api model (built from a short spec
 * per image or video model), regions, durations per route, and the upstream model keys.
 */
import type { GenericOption, ImageFormat, ImageLimits, ModelCapability, SessionRegion } from "../types.js";

export const ALL_REGIONS: readonly SessionRegion[] = ["cn", "us", "hk", "jp", "sg"];
const NOT_US: readonly SessionRegion[] = ["cn", "hk", "jp", "sg"];
const INTERNATIONAL: readonly SessionRegion[] = ["us", "hk", "jp", "sg"];
const ASIA_INTL: readonly SessionRegion[] = ["hk", "jp", "sg"];

export const IMAGE_RATIOS = ["1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9"] as const;
export const IMAGE_RESOLUTIONS = ["1k", "2k", "4k"] as const;
export const VIDEO_RATIOS = ["1:1", "4:3", "3:4", "16:9", "9:16", "21:9"] as const;
export const VIDEO_RESOLUTIONS = ["720p", "1080p"] as const;
export type ImageRatio = (typeof IMAGE_RATIOS)[number];
export type ImageResolution = (typeof IMAGE_RESOLUTIONS)[number];

/** koa-body's per-file limit on jimeng-api. */
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
/** Upstream makes about 4 images per call (and charges for all of them); `count` keeps the first N. */
export const MAX_IMAGE_COUNT = 4;
/**
 * The server documents no prompt limit; this is a client-side sanity cap only, well above anything the
 * Jimeng web UI accepts.
 */
export const MAX_PROMPT_LENGTH = 5000;
/** Durations the async video route accepts, whatever the model. */
export const ASYNC_VIDEO_DURATIONS: readonly number[] = [4, 5, 8, 10, 12];

export interface ImageModelSpec {
  id: string;
  key: string;
  title: string;
  aliases: readonly string[];
  regions: readonly SessionRegion[];
  /** `intelligent_ratio` only takes effect on the 4.x / 5.0 family. */
  intelligentRatio: boolean;
  expectedSeconds: { min: number; typical: number };
  notes?: string;
}

export interface VideoModelSpec {
  id: string;
  key: string;
  title: string;
  aliases: readonly string[];
  regions: readonly SessionRegion[];
  /** What the blocking route accepts. */
  durations: readonly number[] | { min: number; max: number };
  defaultDuration: number;
  /** 720p/1080p is only sent upstream for these models. */
  resolutions: boolean;
  expectedSeconds: { min: number; typical: number };
  notes?: string;
}

const IMAGE_MODELS: readonly ImageModelSpec[] = [
  {
    id: "jimeng-5.0",
    key: "high_aes_general_v50",
    title: "Jimeng 5.0 (Seedream 5.0 Lite)",
    aliases: ["5.0", "seedream-5.0-lite"],
    regions: NOT_US,
    intelligentRatio: true,
    expectedSeconds: { min: 10, typical: 40 },
  },
  {
    id: "jimeng-4.6",
    key: "high_aes_general_v42",
    title: "Jimeng 4.6 (Seedream 4.6)",
    aliases: ["4.6", "seedream-4.6"],
    regions: NOT_US,
    intelligentRatio: true,
    expectedSeconds: { min: 10, typical: 40 },
  },
  {
    id: "jimeng-4.5",
    key: "high_aes_general_v40l",
    title: "Jimeng 4.5 (Seedream 4.5)",
    aliases: ["4.5", "seedream-4.5"],
    regions: ALL_REGIONS,
    intelligentRatio: true,
    expectedSeconds: { min: 10, typical: 35 },
  },
  {
    id: "jimeng-4.1",
    key: "high_aes_general_v41",
    title: "Jimeng 4.1 (Seedream 4.0 Design)",
    aliases: ["4.1"],
    regions: ALL_REGIONS,
    intelligentRatio: true,
    expectedSeconds: { min: 10, typical: 35 },
  },
  {
    id: "jimeng-4.0",
    key: "high_aes_general_v40",
    title: "Jimeng 4.0 (Seedream 4.0)",
    aliases: ["4.0", "seedream-4.0"],
    regions: ALL_REGIONS,
    intelligentRatio: true,
    expectedSeconds: { min: 10, typical: 30 },
  },
  {
    id: "jimeng-3.1",
    key: "high_aes_general_v30l_art_fangzhou:general_v3.0_18b",
    title: "Jimeng 3.1 (Seedream 3.0 art)",
    aliases: ["3.1"],
    regions: ["cn"],
    intelligentRatio: false,
    expectedSeconds: { min: 8, typical: 25 },
  },
  {
    id: "jimeng-3.0",
    key: "high_aes_general_v30l:general_v3.0_18b",
    title: "Jimeng 3.0 (Seedream 3.0)",
    aliases: ["3.0", "seedream-3.0"],
    regions: ALL_REGIONS,
    intelligentRatio: false,
    expectedSeconds: { min: 8, typical: 25 },
  },
  {
    id: "nanobanana",
    key: "external_model_gemini_flash_image_v25",
    title: "Nano Banana (Gemini 2.5 Flash Image), international sites only",
    aliases: ["nano-banana"],
    regions: INTERNATIONAL,
    intelligentRatio: false,
    expectedSeconds: { min: 8, typical: 30 },
    notes:
      "International only. On us- sessions the server forces 1024×1024; on hk/jp/sg it forces 1k and keeps the ratio. Often returns fewer than 4 images.",
  },
  {
    id: "nanobananapro",
    key: "dreamina_image_lib_1",
    title: "Nano Banana Pro, international sites only",
    aliases: ["nano-banana-pro"],
    regions: INTERNATIONAL,
    intelligentRatio: false,
    expectedSeconds: { min: 15, typical: 60 },
    notes:
      "International only; free accounts may fail with fail_code 121212 (entitlement closed upstream). 4k has its own pixel table.",
  },
];

const VIDEO_MODELS: readonly VideoModelSpec[] = [
  {
    id: "jimeng-video-seedance-2.0",
    key: "dreamina_seedance_40_pro",
    title: "Seedance 2.0",
    aliases: ["seedance-2.0"],
    regions: ["cn"],
    durations: { min: 4, max: 15 },
    defaultDuration: 5,
    resolutions: false,
    expectedSeconds: { min: 60, typical: 300 },
    notes: "Risk control (upstream ret 4013) hits this model most often.",
  },
  {
    id: "jimeng-video-seedance-2.0-fast",
    key: "dreamina_seedance_40",
    title: "Seedance 2.0 Fast",
    aliases: ["seedance-2.0-fast"],
    regions: ["cn"],
    durations: { min: 4, max: 15 },
    defaultDuration: 5,
    resolutions: false,
    expectedSeconds: { min: 45, typical: 180 },
  },
  {
    id: "jimeng-video-3.5-pro",
    key: "dreamina_ic_generate_video_model_vgfm_3.5_pro",
    title: "Jimeng Video 3.5 Pro (Seedance 1.5 Pro)",
    aliases: ["video-3.5-pro", "seedance-1.5-pro"],
    regions: ALL_REGIONS,
    durations: [5, 10, 12],
    defaultDuration: 5,
    resolutions: false,
    expectedSeconds: { min: 40, typical: 150 },
  },
  {
    id: "jimeng-video-3.0-pro",
    key: "dreamina_ic_generate_video_model_vgfm_3.0_pro",
    title: "Jimeng Video 3.0 Pro (Seedance 1.0)",
    aliases: ["video-3.0-pro", "seedance-1.0"],
    regions: NOT_US,
    durations: [5, 10],
    defaultDuration: 5,
    resolutions: false,
    expectedSeconds: { min: 40, typical: 150 },
  },
  {
    id: "jimeng-video-3.0",
    key: "dreamina_ic_generate_video_model_vgfm_3.0",
    title: "Jimeng Video 3.0 (Seedance 1.0 mini)",
    aliases: ["video-3.0", "seedance-1.0-mini"],
    regions: ALL_REGIONS,
    durations: [5, 10],
    defaultDuration: 5,
    resolutions: true,
    expectedSeconds: { min: 30, typical: 120 },
  },
  {
    id: "jimeng-video-3.0-fast",
    key: "dreamina_ic_generate_video_model_vgfm_3.0_fast",
    title: "Jimeng Video 3.0 Fast (Seedance 1.0 Fast)",
    aliases: ["video-3.0-fast", "seedance-1.0-fast"],
    regions: NOT_US,
    durations: [5, 10],
    defaultDuration: 5,
    resolutions: true,
    expectedSeconds: { min: 20, typical: 90 },
  },
  {
    id: "jimeng-video-2.0-pro",
    key: "dreamina_ic_generate_video_model_vgfm1.0",
    title: "Jimeng Video 2.0 Pro",
    aliases: ["video-2.0-pro"],
    regions: NOT_US,
    durations: [5, 10],
    defaultDuration: 5,
    resolutions: false,
    expectedSeconds: { min: 40, typical: 150 },
  },
  {
    id: "jimeng-video-2.0",
    key: "dreamina_ic_generate_video_model_vgfm_lite",
    title: "Jimeng Video 2.0",
    aliases: ["video-2.0"],
    regions: NOT_US,
    durations: [5, 10],
    defaultDuration: 5,
    resolutions: false,
    expectedSeconds: { min: 30, typical: 120 },
  },
  {
    id: "jimeng-video-veo3",
    key: "dreamina_veo3_generate_video",
    title: "Veo 3 (hk/jp/sg sessions only)",
    aliases: ["veo3"],
    regions: ASIA_INTL,
    durations: [8],
    defaultDuration: 8,
    resolutions: false,
    expectedSeconds: { min: 60, typical: 180 },
  },
  {
    id: "jimeng-video-veo3.1",
    key: "dreamina_veo3.1_generate_video",
    title: "Veo 3.1 (hk/jp/sg sessions only)",
    aliases: ["veo3.1"],
    regions: ASIA_INTL,
    durations: [8],
    defaultDuration: 8,
    resolutions: false,
    expectedSeconds: { min: 60, typical: 180 },
  },
  {
    id: "jimeng-video-sora2",
    key: "dreamina_sora2_generate_video",
    title: "Sora 2 (hk/jp/sg sessions only)",
    aliases: ["sora2"],
    regions: ASIA_INTL,
    durations: [4, 8, 12],
    defaultDuration: 4,
    resolutions: false,
    expectedSeconds: { min: 60, typical: 240 },
  },
];

export const DEFAULT_IMAGE_MODEL = "jimeng-4.5";
export const DEFAULT_VIDEO_MODEL = "jimeng-video-3.5-pro";

const IMAGE_FORMATS: readonly ImageFormat[] = ["jpeg", "png", "webp"];

const COMPOSE_IMAGES: ImageLimits = {
  min: 1,
  max: 10,
  formats: IMAGE_FORMATS,
  maxBytes: MAX_UPLOAD_BYTES,
  transport: "url-or-upload",
};

const VIDEO_FRAMES: ImageLimits = {
  min: 0,
  max: 2,
  formats: IMAGE_FORMATS,
  maxBytes: MAX_UPLOAD_BYTES,
  transport: "url-or-upload",
  roles: ["first frame", "last frame"],
};

/** Why jimeng-api servers refuse some generic options, shown with the refusal. */
const REFUSALS: Partial<Record<GenericOption, string>> = {
  size: "jimeng-api servers refuse exact sizes (不支持的参数: size); use ratio and resolution instead",
  seed: "jimeng-api servers always pick a random seed",
  watermark: "jimeng-api servers cannot switch the watermark",
};
const VIDEO_REFUSALS: Partial<Record<GenericOption, string>> = {
  ...REFUSALS,
  count: "the server makes one video per request",
};

/** The durations a model allows on the blocking route, as a list. */
export function syncDurations(spec: VideoModelSpec): number[] {
  const allowed = spec.durations;
  if (Array.isArray(allowed)) return [...allowed];
  const { min, max } = allowed as { min: number; max: number };
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

/**
 * The durations a model allows on the async route: the model's own rule intersected with the async route's
 * {4,5,8,10,12}. Seedance 2.0's 4–15 becomes 4/5/8/10/12; every other model keeps its own list.
 */
export function asyncDurations(spec: VideoModelSpec): number[] {
  return syncDurations(spec).filter((d) => ASYNC_VIDEO_DURATIONS.includes(d));
}

function imageCapability(spec: ImageModelSpec): ModelCapability {
  return {
    provider: "session",
    id: spec.id,
    aliases: spec.aliases,
    title: spec.title,
    kinds: ["generate", "compose"],
    output: "image",
    options: ["ratio", "resolution", "count", "negative", "strength"],
    refusals: REFUSALS,
    ratios: IMAGE_RATIOS,
    resolutions: IMAGE_RESOLUTIONS,
    images: COMPOSE_IMAGES,
    maxPromptLength: MAX_PROMPT_LENGTH,
    regions: spec.regions,
    expectedSeconds: spec.expectedSeconds,
    ...(spec.id === DEFAULT_IMAGE_MODEL ? { defaultFor: ["generate", "compose"] as const } : {}),
    notes: [
      "Upstream makes about 4 images per call and charges for all of them; count keeps the first N.",
      "Image limits apply to compose; generate takes no images.",
      spec.notes,
    ]
      .filter(Boolean)
      .join(" "),
  };
}

function videoCapability(spec: VideoModelSpec): ModelCapability {
  const options: GenericOption[] = ["ratio", "duration"];
  if (spec.resolutions) options.push("resolution");
  return {
    provider: "session",
    id: spec.id,
    aliases: spec.aliases,
    title: spec.title,
    kinds: ["video"],
    output: "video",
    options,
    refusals: VIDEO_REFUSALS,
    ratios: VIDEO_RATIOS,
    ...(spec.resolutions ? { resolutions: VIDEO_RESOLUTIONS } : {}),
    durations: asyncDurations(spec),
    images: VIDEO_FRAMES,
    maxPromptLength: MAX_PROMPT_LENGTH,
    regions: spec.regions,
    expectedSeconds: spec.expectedSeconds,
    ...(spec.id === DEFAULT_VIDEO_MODEL ? { defaultFor: ["video"] as const } : {}),
    notes: [
      `Durations are those of the async route; the blocking route also allows ${describeDurations(spec.durations)} s.`,
      "With frame images the video follows the image's aspect ratio.",
      spec.notes,
    ]
      .filter(Boolean)
      .join(" "),
  };
}

function describeDurations(durations: VideoModelSpec["durations"]): string {
  return Array.isArray(durations)
    ? durations.join("/")
    : `${(durations as { min: number }).min}–${(durations as { max: number }).max}`;
}

/** Every session model's capability record, images first. */
export const SESSION_MODELS: readonly ModelCapability[] = [
  ...IMAGE_MODELS.map(imageCapability),
  ...VIDEO_MODELS.map(videoCapability),
];

export const IMAGE_MODEL_IDS = IMAGE_MODELS.map((m) => m.id) as [string, ...string[]];
export const VIDEO_MODEL_IDS = VIDEO_MODELS.map((m) => m.id) as [string, ...string[]];

export function imageModelSpec(id: string): ImageModelSpec | undefined {
  return IMAGE_MODELS.find((m) => m.id === id);
}

export function videoModelSpec(id: string): VideoModelSpec | undefined {
  return VIDEO_MODELS.find((m) => m.id === id);
}

/** The regions that offer a model (undefined for an unknown model). */
export function modelRegions(id: string): readonly SessionRegion[] | undefined {
  return (imageModelSpec(id) ?? videoModelSpec(id))?.regions;
}

/** The upstream `model_req_key` behind a public model name. */
export function internalModelKey(id: string): string | undefined {
  return (imageModelSpec(id) ?? videoModelSpec(id))?.key;
}
