import type { Overlay } from "./overlays";
import type { FieldSpec } from "./types";

/**
 * Hailuo's rules on top of RunAPI's contract (SPEC §2): the contract leaves the prompt optional and most
 * durations and resolutions open; RunAPI's Hailuo pages, SDKs and its own errors are stricter. One table
 * per model drives the stricter fields, the defaults and the body RunAPI receives.
 */

type Resolution = "512p" | "768p" | "1080p";
type Duration = 6 | 10;

/** What one Hailuo model accepts. Lists are in ascending order. */
export interface ModelRules {
  textToVideo: boolean;
  /** Durations a client may send (one entry = fixed). */
  durations: readonly Duration[];
  defaultDuration: Duration;
  /** Resolutions the model renders (one entry = fixed); a text-to-video model takes none. */
  resolutions: readonly Resolution[];
  defaultResolution: Resolution;
  lastFrame: boolean;
  maxPromptChars: number;
}

const t2v = (durations: Duration[], defaultDuration: Duration, resolution: Resolution): ModelRules => ({
  textToVideo: true,
  durations,
  defaultDuration,
  resolutions: [resolution],
  defaultResolution: resolution,
  lastFrame: false,
  maxPromptChars: 1500,
});
const i2v = (durations: Duration[], defaultDuration: Duration, resolutions: Resolution[], defaultResolution: Resolution, family: "02" | "2.3"): ModelRules => ({
  textToVideo: false,
  durations,
  defaultDuration,
  resolutions,
  defaultResolution,
  lastFrame: family === "02",
  maxPromptChars: family === "02" ? 1500 : 5000,
});

/** SPEC §2's table, one row per model. On every model 1080p exists only with 6-second clips. */
export const HAILUO_MODELS: Readonly<Record<string, ModelRules>> = {
  "hailuo-02-text-to-video-standard": t2v([6, 10], 10, "768p"),
  "hailuo-02-text-to-video-pro": t2v([6], 6, "1080p"),
  "hailuo-02-image-to-video-standard": i2v([6, 10], 10, ["512p", "768p"], "768p", "02"),
  "hailuo-02-image-to-video-pro": i2v([6], 6, ["1080p"], "1080p", "02"),
  "hailuo-2.3-image-to-video-standard": i2v([6, 10], 10, ["768p", "1080p"], "768p", "2.3"),
  "hailuo-2.3-image-to-video-pro": i2v([6, 10], 6, ["768p", "1080p"], "1080p", "2.3"),
};

/** Whether a (duration, resolution) pair exists: 1080p only with 6-second clips. */
export function isOffered(rules: ModelRules, duration: Duration, resolution: Resolution): boolean {
  return rules.durations.includes(duration) && rules.resolutions.includes(resolution) && !(resolution === "1080p" && duration !== 6);
}

// Blank prompts are an issue of their own ("must not be empty", in `check`).
const prompt = (max: number): FieldSpec => ({ type: "string", required: true, max, length: true });
const url = (required: boolean): FieldSpec => ({ type: "string", ...(required ? { required: true as const } : {}) });

export const HAILUO: Overlay = {
  aliases: {
    duration: "duration_seconds",
    resolution: "output_resolution",
    image_url: "first_frame_image_url",
    end_image_url: "last_frame_image_url",
    nsfw_checker: "enable_safety_checker",
  },
  normaliseAlias: {
    // Legacy `duration` is 6, 10, "6" or "10"; legacy `resolution` is "768P" (any case).
    duration: (v) => (typeof v === "string" && /^\d{1,3}$/.test(v) ? Number(v) : v),
    resolution: (v) => (typeof v === "string" ? v.toLowerCase() : v),
  },
  // Older SDKs spell 2.3 as `hailuo-2-3-…`.
  normaliseModel: (m) => (m.startsWith("hailuo-2-3-") ? `hailuo-2.3-${m.slice("hailuo-2-3-".length)}` : m),

  fields(model): Record<string, FieldSpec | null> {
    const rules = model ? HAILUO_MODELS[model] : undefined;
    if (!rules) return { prompt: prompt(5000) };
    return {
      prompt: prompt(rules.maxPromptChars),
      duration_seconds: { type: "integer", enum: [...rules.durations] },
      output_resolution: rules.textToVideo ? null : { type: "string", enum: [...rules.resolutions] },
      first_frame_image_url: rules.textToVideo ? null : url(true),
      last_frame_image_url: rules.textToVideo || !rules.lastFrame ? null : url(false),
    };
  },

  notAccepted(model, field) {
    const rules = HAILUO_MODELS[model];
    if (!rules) return undefined;
    if (field === "output_resolution" && rules.textToVideo) return `text-to-video output is ${rules.defaultResolution}`;
    if ((field === "first_frame_image_url" || field === "last_frame_image_url") && rules.textToVideo) return "text-to-video models take no frames";
    if (field === "last_frame_image_url" && !rules.lastFrame) return "only a first frame is supported";
    return undefined;
  },

  check(model, params, issue) {
    if (typeof params.prompt === "string" && params.prompt.trim() === "") issue("prompt", "must not be empty");
    const rules = HAILUO_MODELS[model];
    if (rules && params.output_resolution === "1080p" && params.duration_seconds !== undefined && params.duration_seconds !== 6) {
      issue("output_resolution", `1080p is only available with 6-second clips on ${model}`);
    }
  },

  /** 1080p only with 6-second clips, as a rule: any other length limits the resolution to the rest. */
  rules(model) {
    const rules = HAILUO_MODELS[model];
    if (!rules || rules.textToVideo || !rules.resolutions.includes("1080p")) return [];
    return rules.durations
      .filter((d) => d !== 6)
      .map((d) => ({ when: { duration_seconds: d }, enum: { output_resolution: rules.resolutions.filter((r) => isOffered(rules, d, r)) } }));
  },

  /**
   * Fill in what the client left out. Explicit values win and the defaults adapt so the pair is always
   * offered: 2.3 pro with `duration_seconds: 10` and no resolution renders 768p (its 1080p default
   * exists only at 6 s); 2.3 standard with `output_resolution: "1080p"` and no duration renders 6 s.
   */
  effective(model, params) {
    const rules = HAILUO_MODELS[model];
    if (!rules) return params;
    const resolution = params.output_resolution as Resolution | undefined;
    const duration: Duration = (params.duration_seconds as Duration | undefined) ?? (resolution === "1080p" ? 6 : rules.defaultDuration);
    let output: Resolution = resolution ?? rules.defaultResolution;
    if (!isOffered(rules, duration, output)) output = rules.resolutions.filter((r) => isOffered(rules, duration, r)).at(-1) ?? output;
    return { ...params, duration_seconds: duration, output_resolution: output };
  },

  /**
   * A parameter is sent only where the model offers a choice (RunAPI's Python SDK refuses
   * `duration_seconds`/`output_resolution` on the fixed 02 pro models; text-to-video takes no resolution);
   * where there is a choice the EFFECTIVE value is sent, so RunAPI renders exactly what was priced.
   */
  upstream(model, sent, effective) {
    const rules = HAILUO_MODELS[model];
    if (!rules) return sent;
    const { duration_seconds: _d, output_resolution: _r, ...rest } = sent;
    const body: Record<string, unknown> = { ...rest };
    if (rules.durations.length > 1) body.duration_seconds = effective.duration_seconds;
    if (!rules.textToVideo && rules.resolutions.length > 1) body.output_resolution = effective.output_resolution;
    return body;
  },
};
