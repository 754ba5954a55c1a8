import type { SimIssue } from "./validate";

/**
 * Hailuo as RunAPI really serves it (SPEC §2), beyond what its published contract says: the prompt is
 * required, durations and resolutions are fixed per model, 1080p exists only with 6-second clips, and 2.3
 * takes no last frame. The simulator's own table: legacy aliases are not accepted (the proxy renames them).
 */

/** What one Hailuo model accepts and what RunAPI renders when a field is left out. */
export interface HailuoModel {
  durations: readonly number[];
  defaultDuration: number;
  /** Resolutions a request may name; empty for text-to-video, which takes no resolution (the contract has no such field). */
  resolutions: readonly string[];
  defaultResolution: string;
  lastFrame: boolean;
  maxPromptChars: number;
}

const model = (durations: number[], defaultDuration: number, resolutions: string[], defaultResolution: string, lastFrame: boolean, maxPromptChars: number) => ({
  durations,
  defaultDuration,
  resolutions,
  defaultResolution,
  lastFrame,
  maxPromptChars,
});

/** RunAPI's six Hailuo models. */
export const HAILUO_MODELS: Readonly<Record<string, HailuoModel>> = {
  "hailuo-02-text-to-video-standard": model([6, 10], 10, [], "768p", false, 1500),
  "hailuo-02-text-to-video-pro": model([6], 6, [], "1080p", false, 1500),
  "hailuo-02-image-to-video-standard": model([6, 10], 10, ["512p", "768p"], "768p", true, 1500),
  "hailuo-02-image-to-video-pro": model([6], 6, ["1080p"], "1080p", true, 1500),
  "hailuo-2.3-image-to-video-standard": model([6, 10], 10, ["768p", "1080p"], "768p", false, 5000),
  "hailuo-2.3-image-to-video-pro": model([6, 10], 6, ["768p", "1080p"], "1080p", false, 5000),
};

/** The duration and resolution RunAPI renders for a Hailuo request (its defaults where a field is left out). */
export function hailuoEffective(modelName: string, body: Record<string, unknown>): { duration_seconds: unknown; output_resolution: unknown } | null {
  const rules = HAILUO_MODELS[modelName];
  if (!rules) return null;
  return { duration_seconds: body.duration_seconds ?? rules.defaultDuration, output_resolution: body.output_resolution ?? rules.defaultResolution };
}

/** Hailuo's constraints the contract leaves out; `partial` (a quote) skips the prompt. */
export function hailuoIssues(modelName: string, body: Record<string, unknown>, opts: { partial?: boolean } = {}): SimIssue[] {
  const rules = HAILUO_MODELS[modelName];
  if (!rules) return [];
  const issues: SimIssue[] = [];
  const prompt = body.prompt;
  if (prompt === undefined) {
    if (!opts.partial) issues.push({ field: "prompt", message: "is required" });
  } else if (typeof prompt !== "string" || prompt.trim() === "") {
    issues.push({ field: "prompt", message: "must be a non-empty string" });
  } else if ([...prompt].length > rules.maxPromptChars) {
    issues.push({ field: "prompt", message: `must be at most ${rules.maxPromptChars} characters for ${modelName}` });
  }
  const duration = body.duration_seconds ?? rules.defaultDuration;
  if (!rules.durations.includes(duration as number)) {
    issues.push({ field: "duration_seconds", message: `must be ${rules.durations.join(" or ")} for ${modelName}` });
  }
  const resolution = body.output_resolution ?? rules.defaultResolution;
  if (body.output_resolution !== undefined && rules.resolutions.length > 0 && !rules.resolutions.includes(resolution as string)) {
    issues.push({ field: "output_resolution", message: `must be ${rules.resolutions.join(" or ")} for ${modelName}` });
  } else if (resolution === "1080p" && duration !== 6) {
    issues.push({ field: "output_resolution", message: `1080p is rendered only with 6-second clips (duration_seconds is ${String(duration)})` });
  }
  if (!rules.lastFrame && body.last_frame_image_url !== undefined) {
    issues.push({ field: "last_frame_image_url", message: `is not supported by ${modelName}` });
  }
  return issues;
}
