/**
 * The Hailuo models RunAPI sells and what each accepts (SPEC §2, "Hailuo request rules").
 * One table drives validation, the valid price cells and the upstream body.
 */

/** The two create endpoints, as they appear in `/api/v1/hailuo/{endpoint}`. */
export type Endpoint = "text_to_video" | "image_to_video";
export const ENDPOINTS: readonly Endpoint[] = ["text_to_video", "image_to_video"];

export type Resolution = "512p" | "768p" | "1080p";
export const RESOLUTIONS: readonly Resolution[] = ["512p", "768p", "1080p"];

export type Duration = 6 | 10;
export const DURATIONS: readonly Duration[] = [6, 10];

export type ModelId =
  | "hailuo-02-text-to-video-standard"
  | "hailuo-02-text-to-video-pro"
  | "hailuo-02-image-to-video-standard"
  | "hailuo-02-image-to-video-pro"
  | "hailuo-2.3-image-to-video-standard"
  | "hailuo-2.3-image-to-video-pro";

/** What one model accepts. Lists are in ascending order. */
export interface ModelRules {
  endpoint: Endpoint;
  family: "02" | "2.3";
  /** Durations a client may send (one entry = fixed). */
  durations: readonly Duration[];
  defaultDuration: Duration;
  /** Whether `output_resolution` may be sent at all (text-to-video models: no). */
  acceptsResolution: boolean;
  /** Resolutions the model produces (one entry = fixed). */
  resolutions: readonly Resolution[];
  defaultResolution: Resolution;
  /** Whether a last frame may be sent (image-to-video only). */
  lastFrame: boolean;
  maxPromptChars: number;
}

/** SPEC §2's table, one row per model. On every model 1080p exists only with 6-second clips. */
export const MODEL_RULES: Readonly<Record<ModelId, ModelRules>> = {
  "hailuo-02-text-to-video-standard": {
    endpoint: "text_to_video",
    family: "02",
    durations: [6, 10],
    defaultDuration: 10,
    acceptsResolution: false,
    resolutions: ["768p"],
    defaultResolution: "768p",
    lastFrame: false,
    maxPromptChars: 1500,
  },
  "hailuo-02-text-to-video-pro": {
    endpoint: "text_to_video",
    family: "02",
    durations: [6],
    defaultDuration: 6,
    acceptsResolution: false,
    resolutions: ["1080p"],
    defaultResolution: "1080p",
    lastFrame: false,
    maxPromptChars: 1500,
  },
  "hailuo-02-image-to-video-standard": {
    endpoint: "image_to_video",
    family: "02",
    durations: [6, 10],
    defaultDuration: 10,
    acceptsResolution: true,
    resolutions: ["512p", "768p"],
    defaultResolution: "768p",
    lastFrame: true,
    maxPromptChars: 1500,
  },
  "hailuo-02-image-to-video-pro": {
    endpoint: "image_to_video",
    family: "02",
    durations: [6],
    defaultDuration: 6,
    acceptsResolution: true,
    resolutions: ["1080p"],
    defaultResolution: "1080p",
    lastFrame: true,
    maxPromptChars: 1500,
  },
  "hailuo-2.3-image-to-video-standard": {
    endpoint: "image_to_video",
    family: "2.3",
    durations: [6, 10],
    defaultDuration: 10,
    acceptsResolution: true,
    resolutions: ["768p", "1080p"],
    defaultResolution: "768p",
    lastFrame: false,
    maxPromptChars: 5000,
  },
  "hailuo-2.3-image-to-video-pro": {
    endpoint: "image_to_video",
    family: "2.3",
    durations: [6, 10],
    defaultDuration: 6,
    acceptsResolution: true,
    resolutions: ["768p", "1080p"],
    defaultResolution: "1080p",
    lastFrame: false,
    maxPromptChars: 5000,
  },
};

export const MODEL_IDS: readonly ModelId[] = Object.keys(MODEL_RULES) as ModelId[];

/** Whether a string is one of the six canonical model ids. */
export function isModelId(value: string): value is ModelId {
  return Object.hasOwn(MODEL_RULES, value);
}

/** Older SDKs spell 2.3 as `hailuo-2-3-…`; everything else is returned unchanged. */
export function normaliseModelId(value: string): string {
  return value.startsWith("hailuo-2-3-") ? `hailuo-2.3-${value.slice("hailuo-2-3-".length)}` : value;
}

/** Which endpoint serves a model. */
export function endpointOf(model: ModelId): Endpoint {
  return MODEL_RULES[model].endpoint;
}

/** Whether a (duration, resolution) pair exists at all: 1080p only with 6-second clips. */
export function isOffered(rules: ModelRules, duration: Duration, resolution: Resolution): boolean {
  return rules.durations.includes(duration) && rules.resolutions.includes(resolution) && !(resolution === "1080p" && duration !== 6);
}

/** Every (model, duration, resolution) combination that validation can produce — the price table must cover each. */
export function validCombinations(): { model: ModelId; duration_seconds: Duration; output_resolution: Resolution }[] {
  const out: { model: ModelId; duration_seconds: Duration; output_resolution: Resolution }[] = [];
  for (const model of MODEL_IDS) {
    const rules = MODEL_RULES[model];
    for (const output_resolution of rules.resolutions) {
      for (const duration_seconds of rules.durations) {
        if (isOffered(rules, duration_seconds, output_resolution)) out.push({ model, duration_seconds, output_resolution });
      }
    }
  }
  return out;
}
