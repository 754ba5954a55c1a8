import { allActions, fieldsFor, type CatalogAction } from "../src/catalog/catalog";
import type { ContractRule, FieldSpec, Scalar } from "../src/catalog/types";
import { holds } from "./validate";

/**
 * The smallest valid create body of every catalog action × model, built from RunAPI's contract (never
 * hand-written): its required fields with a valid value of their type, enum, range or pattern, and what its
 * rules require. For the simulator's whole-catalog walk and the proxy's: both send these bodies.
 */

/** Options for a sample body. */
export interface SampleOptions {
  /** The id a task-reference field (`source_task_id`, `task_id`) names: an earlier task of the caller's. */
  taskId?: string;
  /** Text for the text fields (a prompt, lyrics…), e.g. to carry a nonce or a `[sim:…]` marker; also sent as `prompt` where one is accepted. */
  text?: string;
}

/** One request to try: an action and a model it serves (null for an action without models). */
export interface SampleCase {
  action: CatalogAction;
  model: string | null;
}

/** Used when no task id is given: a well-formed id of no task. */
export const PLACEHOLDER_TASK_ID = "00000000-0000-4000-8000-000000000000";
/** Text used when none is given. */
export const SAMPLE_TEXT = "A red fox runs through fresh snow at dawn";
/** The image, audio and video URLs samples send. */
export const SAMPLE_URLS = { image: "https://img.test/a.png", audio: "https://img.test/a.mp3", video: "https://img.test/a.mp4" } as const;

const TASK_REFERENCES = new Set(["source_task_id", "task_id"]);
const MAX_PASSES = 8;

/** Every action × model of the catalog, in catalog order (an action without models once, with model null). */
export function sampleCases(): SampleCase[] {
  return allActions().flatMap((action): SampleCase[] =>
    action.models.length > 0 ? action.models.map((model) => ({ action, model })) : [{ action, model: null }],
  );
}

/** The smallest valid create body for an action and model. */
export function minimalRequest(action: CatalogAction, model: string | null, opts: SampleOptions = {}): Record<string, unknown> {
  const fields = fieldsFor(action, model);
  const body: Record<string, unknown> = {};
  if (action.takesModel && model !== null) body.model = model;
  for (const [name, spec] of fields) if (spec.required && name !== "model") body[name] = sampleValue(name, spec, opts);
  const textField = fields.get("prompt");
  if (textField && (opts.text !== undefined || action.service === "hailuo")) body.prompt ??= sampleValue("prompt", textField, opts);
  let passes = 0;
  while (passes++ < MAX_PASSES && applyRules(action.rules, body, model, fields, opts)) {
    // until every rule holds
  }
  return body;
}

/** Makes the body satisfy every rule whose condition holds; true when it changed something. */
function applyRules(
  rules: readonly ContractRule[],
  body: Record<string, unknown>,
  model: string | null,
  fields: ReadonlyMap<string, FieldSpec>,
  opts: SampleOptions,
) {
  let changed = false;
  const set = (name: string, value: unknown) => {
    body[name] = value;
    changed = true;
  };
  for (const rule of rules) {
    const sent = model !== null ? { ...body, model } : body;
    if (rule.when && !Object.entries(rule.when).every(([f, c]) => holds(sent[f], c))) continue;
    for (const name of rule.forbidden ?? []) {
      if (body[name] !== undefined && name !== "model") {
        delete body[name];
        changed = true;
      }
    }
    for (const [name, allowed] of Object.entries(rule.enum ?? {})) {
      if (body[name] !== undefined && !allowed.includes(body[name] as Scalar)) set(name, allowed[0]);
    }
    for (const name of rule.required ?? []) {
      if (body[name] === undefined) set(name, rule.enum?.[name]?.[0] ?? sampleValue(name, fields.get(name) ?? { type: "string" }, opts));
    }
    const any = rule.required_any ?? [];
    if (any.length > 0 && !any.some((name) => body[name] !== undefined)) set(any[0]!, sampleValue(any[0]!, fields.get(any[0]!) ?? { type: "string" }, opts));
  }
  return changed;
}

/** A valid value for a field, by its spec and (for strings) its name. */
export function sampleValue(name: string, spec: FieldSpec, opts: SampleOptions = {}): unknown {
  if (spec.enum) return spec.enum.includes(spec.default as Scalar) ? spec.default : spec.enum[0];
  switch (spec.type) {
    case "boolean":
      return typeof spec.default === "boolean" ? spec.default : false;
    case "integer":
    case "number":
      return sampleNumber(name, spec);
    case "array":
      return Array.from({ length: Math.max(spec.min_items ?? 1, 1) }, () => sampleItem(name, spec, opts));
    case "object":
      return {};
    case "string":
      return sampleString(name, spec, opts);
  }
}

function sampleNumber(name: string, spec: FieldSpec): number {
  const fits = (n: number) => (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max);
  if (typeof spec.default === "number" && fits(spec.default)) return spec.default;
  const wish = /(^|_)end_(time|seconds)$/.test(name) ? 2 : 1;
  if (fits(wish)) return wish;
  return spec.min ?? spec.max!;
}

function sampleItem(name: string, spec: FieldSpec, opts: SampleOptions): unknown {
  const items = spec.items;
  if (items && "properties" in items) {
    const entries = Object.entries(items.properties).filter(([, p]) => p.required);
    return Object.fromEntries(entries.map(([key, p]) => [key, sampleValue(key, p, opts)]));
  }
  const singular = name
    .replace(/_urls$|_url_list$/, "_url")
    .replace(/_ids$/, "_id")
    .replace(/s$/, "");
  return sampleValue(singular, items ?? { type: "string" }, opts);
}

function sampleString(name: string, spec: FieldSpec, opts: SampleOptions): string {
  if (spec.pattern === "^https?://" || /_url$/.test(name)) return urlFor(name);
  if (name === "speaker_id" || spec.pattern?.startsWith("^Speaker")) return "Speaker 1";
  if (TASK_REFERENCES.has(name)) return opts.taskId ?? PLACEHOLDER_TASK_ID;
  if (/_id$/.test(name)) return `sim-${name.replaceAll("_", "-")}`;
  const text = opts.text ?? SAMPLE_TEXT;
  if (spec.length && spec.max !== undefined && [...text].length > spec.max) return [...text].slice(0, spec.max).join("");
  if (spec.length && spec.min !== undefined && [...text].length < spec.min) return text.padEnd(spec.min, ".");
  return text;
}

function urlFor(name: string): string {
  if (/audio|voice|music|song|vocal|speech|sound/.test(name)) return SAMPLE_URLS.audio;
  if (/video/.test(name)) return SAMPLE_URLS.video;
  return SAMPLE_URLS.image;
}
