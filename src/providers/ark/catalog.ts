/**
 * The Ark catalog: one capability record per model (Seedream / SeedEdit images, Seedance video), with the
 * native fields each accepts. Ark answers 400 to a field a model does not support, so the request builder
 * (native.ts) sends only the fields listed here. The records drive validation, CLI flags, `jimeng models` and
 * the README's models table like the other providers' (spec ark-api.md; visual-api.md Part C).
 */
import { ValidationError } from "../../errors.js";
import type { ImageLimits, ModelCapability, TaskKind } from "../types.js";
import type { ArkImageField, ArkVideoField } from "./schemas.js";

export interface ArkModel extends ModelCapability {
  provider: "ark";
  /** Which Ark route serves it: the synchronous image call or the video task routes. */
  api: "images" | "videos";
  /** The BytePlus ModelArk (international) id: the China id without `doubao-`. */
  internationalId?: string;
  /** The native fields (besides model, prompt / content) the model accepts. */
  fields: readonly (ArkImageField | ArkVideoField)[];
  /** Image models: how `size` is spelled (3.0 `WxH`, SeedEdit `adaptive`, 4.x a preset or `WxH`). */
  sizing?: "pixels" | "adaptive" | "preset-or-pixels";
  /** Image models: how `count` is served (one set request on 4.x, parallel requests on 3.0). */
  countBy?: "set" | "parallel";
}

const MB = 1024 * 1024;
const IMAGE_RATIOS = ["1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9"] as const;
const VIDEO_RATIOS = ["16:9", "4:3", "1:1", "3:4", "9:16", "21:9"] as const;
const VIDEO_RESOLUTIONS = ["480p", "720p", "1080p"] as const;

/** Each image ≤ 10 MB, ≤ 6000×6000 px, ratio within [1/16, 16] (spec ark-api.md). */
function referenceImages(min: number, max: number, roles?: readonly string[]): ImageLimits {
  return {
    min,
    max,
    formats: ["jpeg", "png", "webp"],
    maxBytes: 10 * MB,
    maxSide: 6000,
    maxAspectRatio: 16,
    transport: "url-or-base64",
    ...(roles ? { roles } : {}),
  };
}

const SEEDREAM4_FIELDS = [
  "image",
  "size",
  "watermark",
  "response_format",
  "sequential_image_generation",
  "sequential_image_generation_options",
  "stream",
  "optimize_prompt_options",
] as const satisfies readonly ArkImageField[];

const SEEDANCE_FIELDS = [
  "ratio",
  "duration",
  "resolution",
  "seed",
  "camera_fixed",
  "watermark",
  "return_last_frame",
  "callback_url",
  "service_tier",
  "execution_expires_after",
] as const satisfies readonly ArkVideoField[];

function seedream4(
  id: string,
  version: string,
  resolutions: readonly string[],
  extra: { fields?: readonly ArkImageField[]; defaultFor?: readonly TaskKind[]; notes?: string } = {},
): ArkModel {
  return {
    provider: "ark",
    api: "images",
    id,
    internationalId: id.replace(/^doubao-/, ""),
    aliases: [`seedream-${version}`],
    title: `Seedream ${version}`,
    kinds: ["generate", "compose"],
    output: "image",
    options: ["ratio", "resolution", "size", "count", "watermark"],
    refusals: {
      seed: "Seedream 4.x on Ark takes no seed (only 3.0 t2i and SeedEdit 3.0 do); Ark answers 400 to one",
    },
    ratios: IMAGE_RATIOS,
    resolutions,
    images: referenceImages(1, 14),
    maxPromptLength: 2000,
    expectedSeconds: { min: 0, typical: 20 },
    fields: [...SEEDREAM4_FIELDS, ...(extra.fields ?? [])],
    sizing: "preset-or-pixels",
    countBy: "set",
    ...(extra.defaultFor ? { defaultFor: extra.defaultFor } : {}),
    notes:
      extra.notes ??
      "-n asks for a set (sequential_image_generation + max_images): the model makes up to n images; inputs + outputs ≤ 15",
  };
}

function seedance(
  id: string,
  version: string,
  images: ImageLimits | null,
  durations: ModelCapability["durations"],
  extra: { defaultFor?: readonly TaskKind[]; notes?: string } = {},
): ArkModel {
  return {
    provider: "ark",
    api: "videos",
    id,
    internationalId: id.replace(/^doubao-/, ""),
    aliases: [`seedance-${version}`],
    title: `Seedance ${version}`,
    kinds: ["video"],
    output: "video",
    options: ["ratio", "resolution", "duration", "seed", "watermark"],
    ratios: VIDEO_RATIOS,
    resolutions: VIDEO_RESOLUTIONS,
    durations,
    images,
    maxPromptLength: 2000,
    expectedSeconds: { min: 20, typical: 60 },
    fields: SEEDANCE_FIELDS,
    ...(extra.defaultFor ? { defaultFor: extra.defaultFor } : {}),
    ...(extra.notes ? { notes: extra.notes } : {}),
  };
}

const FIRST_FRAME = ["first frame"] as const;
const FIRST_LAST = ["first frame", "last frame"] as const;

export const ARK_MODELS: readonly ArkModel[] = [
  seedream4("doubao-seedream-4-5-251128", "4.5", ["2k", "4k"], { defaultFor: ["generate", "compose"] }),
  seedream4("doubao-seedream-4-0-250828", "4.0", ["1k", "2k", "4k"]),
  seedream4("doubao-seedream-5-0-260128", "5.0", ["2k", "4k"], { fields: ["output_format", "tools"] }),
  seedream4("doubao-seedream-5-0-lite-260128", "5.0-lite", ["2k", "4k"], { fields: ["output_format"] }),
  {
    provider: "ark",
    api: "images",
    id: "doubao-seedream-3-0-t2i-250415",
    internationalId: "seedream-3-0-t2i-250415",
    // The seed servers' name for it.
    aliases: ["seedream-3.0", "doubao-seedream-3.0-t2i"],
    title: "Seedream 3.0 text-to-image",
    kinds: ["generate"],
    output: "image",
    options: ["ratio", "size", "count", "seed", "watermark"],
    ratios: IMAGE_RATIOS,
    images: null,
    maxPromptLength: 1000,
    expectedSeconds: { min: 0, typical: 10 },
    fields: ["size", "seed", "guidance_scale", "watermark", "response_format"],
    sizing: "pixels",
    countBy: "parallel",
    notes: "-n sends n requests in parallel (one image each); a failed one does not cost the others",
  },
  {
    provider: "ark",
    api: "images",
    id: "doubao-seededit-3-0-i2i-250628",
    internationalId: "seededit-3-0-i2i-250628",
    aliases: ["seededit-3.0"],
    title: "SeedEdit 3.0 image-to-image",
    kinds: ["compose"],
    output: "image",
    options: ["seed", "watermark"],
    refusals: {
      size: "SeedEdit 3.0 keeps the input's size (size: adaptive)",
      ratio: "SeedEdit 3.0 keeps the input's aspect ratio",
    },
    images: referenceImages(1, 1),
    maxPromptLength: 1000,
    expectedSeconds: { min: 0, typical: 10 },
    fields: ["image", "size", "seed", "guidance_scale", "watermark", "response_format"],
    sizing: "adaptive",
  },
  seedance("doubao-seedance-1-0-pro-250528", "1.0-pro", referenceImages(0, 1, FIRST_FRAME), {
    min: 2,
    max: 12,
  }),
  seedance("doubao-seedance-1-0-pro-fast-251015", "1.0-pro-fast", referenceImages(0, 1, FIRST_FRAME), {
    min: 2,
    max: 12,
  }),
  seedance("doubao-seedance-1-0-lite-t2v-250428", "1.0-lite-t2v", null, [5, 10]),
  seedance(
    "doubao-seedance-1-0-lite-i2v-250428",
    "1.0-lite-i2v",
    referenceImages(1, 4, FIRST_LAST),
    [5, 10],
    {
      notes: "1 image: first frame; 2: first and last frame; 1–4 reference images with extra.roles",
    },
  ),
  seedance(
    "doubao-seedance-1-5-pro-251215",
    "1.5-pro",
    referenceImages(0, 2, FIRST_LAST),
    { min: 4, max: 12 },
    {
      defaultFor: ["video"],
    },
  ),
];

export const ENDPOINT_ID = /^ep-[0-9A-Za-z-]+$/;

/** Whether `name` is one of Ark's: a catalog id, alias or BytePlus id, an `ep-…` endpoint id, or a Seedream/Seedance name. */
export function isArkModelName(name: string): boolean {
  const wanted = name.trim().toLowerCase();
  return (
    ENDPOINT_ID.test(name.trim()) ||
    /^(doubao-)?(seedream|seededit|seedance)-/.test(wanted) ||
    findArkModel(name) !== undefined
  );
}

/** A catalog record by id, alias or BytePlus id. */
export function findArkModel(name: string): ArkModel | undefined {
  const wanted = name.trim().toLowerCase();
  return ARK_MODELS.find(
    (model) =>
      model.id === wanted ||
      model.internationalId === wanted ||
      model.aliases.some((alias) => alias.toLowerCase() === wanted),
  );
}

/**
 * The record for an `ep-…` endpoint: that of the model family named (`family`), else one that accepts every
 * option of its kind, so only what is model-independent is checked and only what the user asked is sent.
 */
export function endpointModel(endpointId: string, kind: TaskKind, family?: string): ArkModel {
  const known = family ? findArkModel(family) : undefined;
  if (family && !known)
    throw new ValidationError([
      { path: "model", message: `unknown model family ${JSON.stringify(family)} for ${endpointId}` },
    ]);
  if (known) {
    if (!known.kinds.includes(kind))
      throw new ValidationError([
        { path: "model", message: `${endpointId} (${known.id}) does not do ${kind}` },
      ]);
    const { internationalId: _intl, defaultFor: _default, ...rest } = known;
    return { ...rest, id: endpointId, aliases: [], title: `${known.title} (endpoint ${endpointId})` };
  }
  if (kind === "video") {
    return {
      ...seedance(endpointId, "endpoint", referenceImages(0, 4, FIRST_LAST), { min: 1, max: 15 }),
      aliases: [],
      title: `Ark endpoint ${endpointId} (video)`,
      ratios: undefined,
      durations: undefined,
    } as ArkModel;
  }
  const generic = seedream4(endpointId, "endpoint", ["1k", "2k", "4k"]);
  return {
    ...generic,
    aliases: [],
    title: `Ark endpoint ${endpointId} (images)`,
    options: ["ratio", "resolution", "size", "count", "seed", "watermark"],
    ratios: undefined,
    resolutions: undefined,
    fields: [...SEEDREAM4_FIELDS, "seed", "guidance_scale", "output_format"],
    images: referenceImages(0, 14),
  };
}

/** The model for `name` (or the default of `kind`); ValidationError naming the alternatives otherwise. */
export function resolveArkModel(name: string | undefined, kind: TaskKind, family?: string): ArkModel {
  const forKind = ARK_MODELS.filter((model) => model.kinds.includes(kind));
  if (name === undefined) {
    const fallback = forKind.find((model) => model.defaultFor?.includes(kind)) ?? forKind[0];
    if (fallback) return fallback;
    throw new ValidationError([{ path: "model", message: `no Ark model does ${kind}` }]);
  }
  if (ENDPOINT_ID.test(name.trim())) return endpointModel(name.trim(), kind, family);
  const found = findArkModel(name);
  if (found?.kinds.includes(kind)) return found;
  const names = forKind.map((model) => model.id).join(", ");
  throw new ValidationError([
    {
      path: "model",
      message: found
        ? `${found.id} does not do ${kind}; Ark models that do: ${names}`
        : `unknown Ark model ${JSON.stringify(name)}; for ${kind}: ${names} (or an ep-… endpoint id)`,
    },
  ]);
}
