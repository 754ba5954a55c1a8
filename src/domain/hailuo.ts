import { unsafeTargetReason } from "./url-safety";
import type { FieldIssue } from "../lib/errors";
import {
  DURATIONS,
  MODEL_IDS,
  MODEL_RULES,
  RESOLUTIONS,
  isModelId,
  isOffered,
  normaliseModelId,
  type Duration,
  type Endpoint,
  type ModelId,
  type ModelRules,
  type Resolution,
} from "./hailuo-models";

export * from "./hailuo-models";

/** A validated, normalised create request with the EFFECTIVE duration and resolution filled in. */
export interface HailuoRequest {
  endpoint: Endpoint;
  model: ModelId;
  prompt: string;
  duration_seconds: Duration;
  output_resolution: Resolution;
  first_frame_image_url?: string;
  last_frame_image_url?: string;
  prompt_optimizer?: boolean;
  enable_safety_checker?: boolean;
  /** The tenant's own webhook for this task (never forwarded as is). */
  callback_url?: string;
}

export type ParseResult = { ok: true; request: HailuoRequest } | { ok: false; issues: FieldIssue[] };

export interface ParseOptions {
  /** Accept `http:` URLs too (local testing only; `ALLOW_HTTP_URLS`). */
  allowHttp: boolean;
  /** Accept a `callback_url` naming a private or loopback host (local testing only; `ALLOW_PRIVATE_URLS`). */
  allowPrivate?: boolean;
}

export const MAX_URL_CHARS = 2048;

/** Canonical field → the legacy name older RunAPI SDKs send for it. */
const ALIASES = {
  duration_seconds: "duration",
  output_resolution: "resolution",
  first_frame_image_url: "image_url",
  last_frame_image_url: "end_image_url",
  enable_safety_checker: "nsfw_checker",
} as const;

const KNOWN_FIELDS: ReadonlySet<string> = new Set(["model", "prompt", "prompt_optimizer", "callback_url", ...Object.keys(ALIASES), ...Object.values(ALIASES)]);

/** A field's value and the name the client sent it under. */
interface Sent {
  field: string;
  value: unknown;
}

/**
 * Validate a create body for `endpoint` against SPEC §2 and normalise it: legacy aliases → canonical
 * names, `hailuo-2-3-…` → `hailuo-2.3-…`, defaults filled in. Every problem is reported, each under
 * the field name the client used. `null` on an optional field counts as "not sent".
 */
export function parseHailuoRequest(endpoint: Endpoint, body: unknown, opts: ParseOptions): ParseResult {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, issues: [{ field: "", message: "request body must be a JSON object" }] };
  }
  const input = body as Record<string, unknown>;
  const issues: FieldIssue[] = [];
  const issue = (field: string, message: string) => issues.push({ field, message });

  for (const key of Object.keys(input)) if (!KNOWN_FIELDS.has(key)) issue(key, "unknown field");

  // model
  let model: ModelId | undefined;
  const rawModel = input.model;
  if (rawModel === undefined || rawModel === null) issue("model", "is required");
  else if (typeof rawModel !== "string") issue("model", "must be a string");
  else {
    const id = normaliseModelId(rawModel);
    if (!isModelId(id)) {
      issue("model", `unknown model; ${endpoint} models are ${modelsOf(endpoint).join(", ")}`);
    } else {
      model = id;
      const served = MODEL_RULES[id].endpoint;
      // Keep validating against the model's own rules: the client gets every problem at once.
      if (served !== endpoint) issue("model", `${id} is served by ${served}: send it to POST /api/v1/hailuo/${served}`);
    }
  }
  const rules = model ? MODEL_RULES[model] : undefined;

  // prompt
  const prompt = input.prompt;
  if (prompt === undefined || prompt === null) issue("prompt", "is required");
  else if (typeof prompt !== "string") issue("prompt", "must be a string");
  else if (prompt.trim() === "") issue("prompt", "must not be empty");
  else {
    const max = rules?.maxPromptChars ?? 5000;
    const length = [...prompt].length; // code points, so an emoji counts once
    if (length > max) {
      const on = model ? ` on ${model}` : "";
      issue("prompt", `must be at most ${max} characters${on} (got ${length})`);
    }
  }

  // duration and resolution
  const sentDuration = pick(input, "duration_seconds", normaliseLegacyDuration, issue);
  const sentResolution = pick(input, "output_resolution", normaliseLegacyResolution, issue);
  const duration = sentDuration && checkDuration(sentDuration, model, rules, issue);
  const resolution = sentResolution && checkResolution(sentResolution, model, rules, issue);
  if (model && rules && sentResolution && duration !== undefined && resolution === "1080p" && duration !== 6) {
    issue(sentResolution.field, `1080p is only available with 6-second clips on ${model}`);
  }

  // frames
  const first = pick(input, "first_frame_image_url", (v) => v, issue);
  const last = pick(input, "last_frame_image_url", (v) => v, issue);
  let firstUrl: string | undefined;
  let lastUrl: string | undefined;
  if (rules?.endpoint === "text_to_video") {
    for (const frame of [first, last]) {
      if (frame) issue(frame.field, `not accepted for ${model}: text-to-video models take no frames`);
    }
  } else {
    if (first) firstUrl = checkUrl(first, opts, issue);
    else if (model) issue("first_frame_image_url", `is required for ${model}`);
    if (last && rules && !rules.lastFrame) issue(last.field, `not accepted for ${model}: only a first frame is supported`);
    else if (last) lastUrl = checkUrl(last, opts, issue);
  }

  // flags and the tenant's webhook
  const promptOptimizer = checkBoolean(
    pick(input, "prompt_optimizer", (v) => v, issue),
    issue,
  );
  const safetyChecker = checkBoolean(
    pick(input, "enable_safety_checker", (v) => v, issue),
    issue,
  );
  const callback = pick(input, "callback_url", (v) => v, issue);
  const callbackUrl = callback && checkUrl(callback, { ...opts, target: !opts.allowPrivate }, issue);

  if (issues.length > 0 || !model || !rules || typeof prompt !== "string") return { ok: false, issues };

  const effective = effectiveShape(rules, duration, resolution);
  const request: HailuoRequest = { endpoint, model, prompt, ...effective };
  if (firstUrl !== undefined) request.first_frame_image_url = firstUrl;
  if (lastUrl !== undefined) request.last_frame_image_url = lastUrl;
  if (promptOptimizer !== undefined) request.prompt_optimizer = promptOptimizer;
  if (safetyChecker !== undefined) request.enable_safety_checker = safetyChecker;
  if (callbackUrl !== undefined) request.callback_url = callbackUrl;
  return { ok: true, request };
}

/**
 * The JSON body RunAPI receives for this request: canonical names only, no `callback_url` (the caller
 * adds the proxy's own). A parameter is sent only when the model offers a choice for it: text-to-video
 * models take no `output_resolution`, and the fixed 6 s / 1080p of the 02 pro models is implied by the
 * model (RunAPI's Python SDK refuses `duration_seconds`/`output_resolution` on them). Where there is a
 * choice the EFFECTIVE value is sent, so RunAPI renders exactly what was priced.
 */
export function upstreamBody(req: HailuoRequest): Record<string, unknown> {
  const rules = MODEL_RULES[req.model];
  const body: Record<string, unknown> = { model: req.model, prompt: req.prompt };
  if (rules.durations.length > 1) body.duration_seconds = req.duration_seconds;
  if (rules.acceptsResolution && rules.resolutions.length > 1) body.output_resolution = req.output_resolution;
  if (req.first_frame_image_url !== undefined) body.first_frame_image_url = req.first_frame_image_url;
  if (req.last_frame_image_url !== undefined) body.last_frame_image_url = req.last_frame_image_url;
  if (req.prompt_optimizer !== undefined) body.prompt_optimizer = req.prompt_optimizer;
  if (req.enable_safety_checker !== undefined) body.enable_safety_checker = req.enable_safety_checker;
  return body;
}

/**
 * Fill in what the client left out. Explicit values win and the defaults adapt so the pair is always
 * offered: 2.3 pro with `duration_seconds: 10` and no resolution renders 768p (its 1080p default
 * exists only at 6 s); 2.3 standard with `output_resolution: "1080p"` and no duration renders 6 s (its
 * 10 s default does not exist at 1080p). An explicit 1080p + 10 s never gets here: it is an issue.
 */
function effectiveShape(rules: ModelRules, duration?: Duration, resolution?: Resolution) {
  const duration_seconds: Duration = duration ?? (resolution === "1080p" ? 6 : rules.defaultDuration);
  let output_resolution: Resolution = resolution ?? rules.defaultResolution;
  if (!isOffered(rules, duration_seconds, output_resolution)) {
    const fallback = rules.resolutions.filter((r) => isOffered(rules, duration_seconds, r)).at(-1);
    if (fallback) output_resolution = fallback;
  }
  return { duration_seconds, output_resolution };
}

function modelsOf(endpoint: Endpoint): ModelId[] {
  return MODEL_IDS.filter((m) => MODEL_RULES[m].endpoint === endpoint);
}

/**
 * Read a canonical field or its legacy alias (normalised). Both sent: the same value is fine (the
 * canonical name is reported from then on), different values are an issue on the alias.
 */
function pick(
  input: Record<string, unknown>,
  canonical: string,
  normaliseAlias: (value: unknown) => unknown,
  issue: (field: string, message: string) => void,
): Sent | undefined {
  const alias = (ALIASES as Record<string, string>)[canonical];
  const canonicalValue = input[canonical];
  const aliasValue = alias === undefined ? undefined : input[alias];
  const hasCanonical = canonicalValue !== undefined && canonicalValue !== null;
  const hasAlias = alias !== undefined && aliasValue !== undefined && aliasValue !== null;
  if (hasCanonical && hasAlias && normaliseAlias(aliasValue) !== canonicalValue) {
    issue(alias, `conflicts with ${canonical}: send only one of them`);
  }
  if (hasCanonical) return { field: canonical, value: canonicalValue };
  if (hasAlias) return { field: alias, value: normaliseAlias(aliasValue) };
  return undefined;
}

/** Legacy `duration` is 6, 10, "6" or "10". */
function normaliseLegacyDuration(value: unknown): unknown {
  return typeof value === "string" && /^\d{1,3}$/.test(value) ? Number(value) : value;
}

/** Legacy `resolution` is "768P" (any case). */
function normaliseLegacyResolution(value: unknown): unknown {
  return typeof value === "string" ? value.toLowerCase() : value;
}

function orList(values: readonly (string | number)[]): string {
  return values.length === 1 ? String(values[0]) : `${values.slice(0, -1).join(", ")} or ${values.at(-1)}`;
}

function checkDuration(
  sent: Sent,
  model: ModelId | undefined,
  rules: ModelRules | undefined,
  issue: (field: string, message: string) => void,
): Duration | undefined {
  const allowed = rules?.durations ?? DURATIONS;
  const forModel = model ? ` for ${model}` : "";
  if (typeof sent.value !== "number" || !allowed.includes(sent.value as Duration)) {
    const kind = typeof sent.value === "number" ? "" : " (a number of seconds)";
    issue(sent.field, `must be ${orList(allowed)}${kind}${forModel}`);
    return undefined;
  }
  return sent.value as Duration;
}

function checkResolution(
  sent: Sent,
  model: ModelId | undefined,
  rules: ModelRules | undefined,
  issue: (field: string, message: string) => void,
): Resolution | undefined {
  if (rules && !rules.acceptsResolution) {
    issue(sent.field, `not accepted for ${model}: text-to-video output is ${rules.defaultResolution}`);
    return undefined;
  }
  const allowed = rules?.resolutions ?? RESOLUTIONS;
  if (typeof sent.value !== "string" || !allowed.includes(sent.value as Resolution)) {
    issue(sent.field, `must be ${orList(allowed)}${model ? ` for ${model}` : ""}`);
    return undefined;
  }
  return sent.value as Resolution;
}

function checkBoolean(sent: Sent | undefined, issue: (field: string, message: string) => void): boolean | undefined {
  if (!sent) return undefined;
  if (typeof sent.value !== "boolean") {
    issue(sent.field, "must be true or false");
    return undefined;
  }
  return sent.value;
}

/** An absolute `https:` URL (`http:` too when allowed), at most 2048 characters; returned as sent. */
function checkUrl(sent: Sent, opts: ParseOptions & { target?: boolean }, issue: (field: string, message: string) => void): string | undefined {
  const problem = urlProblem(sent.value, opts);
  if (problem) {
    issue(sent.field, problem);
    return undefined;
  }
  return sent.value as string;
}

function urlProblem(value: unknown, opts: ParseOptions & { target?: boolean }): string | undefined {
  if (typeof value !== "string") return "must be a URL string";
  if (value.length > MAX_URL_CHARS) return `must be at most ${MAX_URL_CHARS} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an absolute URL";
  }
  const schemeOk = url.protocol === "https:" || (opts.allowHttp && url.protocol === "http:");
  if (!schemeOk) return opts.allowHttp ? "must be an http: or https: URL" : "must be an https: URL";
  if (!url.hostname) return "must name a host";
  // The proxy itself POSTs to a callback_url: it must not point inward.
  if (opts.target) return unsafeTargetReason(url) ?? undefined;
  return undefined;
}
