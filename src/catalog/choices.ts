import type { CatalogAction } from "./catalog";
import { modelFields, overlayFor } from "./overlays";
import { TASK_REFERENCE_FIELDS } from "./request";
import type { ContractRule, FieldSpec, RuleCondition, Scalar } from "./types";

/**
 * What a form can offer for one model (the demo page's picker), derived from the same field specs, contract
 * rules and overlay the validator reads: enums become selects (one value: fixed), small integer ranges become
 * selects of their values, a required URL becomes a URL input, switches the price depends on become
 * checkboxes. Free text other than the prompt is left out unless required. A model whose required input a
 * form cannot ask for (an earlier task, a list of objects) is not offered.
 */

/** How a form asks for a field. */
export type ChoiceKind = "select" | "check" | "url" | "text" | "number";

/** One field a form offers, as compact JSON. */
export interface FieldChoice {
  /** The request field. */
  name: string;
  kind: ChoiceKind;
  label: string;
  /** A select's values; a single one is a fixed value, shown but not changeable. */
  options?: Scalar[];
  /** The value the form starts from: the contract's default, or the overlay's. */
  default?: Scalar;
  /** Always sent (a select without a "Default" entry, a checkbox) or an input that must be filled. */
  required?: true;
  /** A URL sent as a one-item list (`source_image_urls: [url]`). */
  list?: true;
  min?: number;
  max?: number;
}

/** A rule between offered fields that a form applies as values change: when every condition holds, limit fields to `only`, rule `not` values out, `hide` fields. */
export interface ChoiceRule {
  when: Record<string, RuleCondition>;
  only?: Record<string, Scalar[]>;
  not?: Record<string, Scalar[]>;
  hide?: string[];
}

/** What a form offers for one model of an action. */
export interface ModelChoices {
  /** The prompt, when the model takes one. */
  prompt: { required: boolean; min?: number; max?: number } | null;
  fields: FieldChoice[];
  rules: ChoiceRule[];
}

/** Fields a form never asks for: the model is picked, the callback is the tenant's, the prompt has its own box. */
const NOT_ASKED = new Set(["model", "callback_url", "prompt"]);
const URL_FIELD = /_urls?$/;
/** Integer ranges offered as a list of values, up to this many. */
const MAX_RANGE_VALUES = 31;
/** Optional integer ranges worth offering (others, like a seed, are left to their defaults). */
const OFFERED_RANGE = /duration|count/;

const LABELS: Record<string, string> = {
  duration_seconds: "Length",
  output_resolution: "Resolution",
  output_count: "Outputs",
  output_quality: "Quality",
  output_format: "File format",
  enable_sound: "With sound",
  enable_audio: "With sound",
  generate_audio: "With sound",
  audio: "With sound",
};

/** "source_image_urls" → "Source image URL". */
export function fieldLabel(name: string): string {
  const words = (LABELS[name] ?? name.replace(URL_FIELD, "_URL").replaceAll("_", " ")).trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** What the static rules add up to so far: fields required or forbidden, values limited. */
interface Constraints {
  required: Set<string>;
  forbidden: Set<string>;
  limited: Map<string, Scalar[]>;
}

/**
 * The choices for one model of an action, or null when a form cannot make a valid request for it (a synchronous
 * action, one that takes no model, or a required input it cannot ask for). `priced` names the fields the price
 * depends on (the schedule's keys): optional switches among them are offered, others are left to their default.
 */
export function choicesFor(action: CatalogAction, model: string, priced: ReadonlySet<string> = new Set()): ModelChoices | null {
  if (action.sync || !action.models.includes(model)) return null;
  const overlay = overlayFor(action.service);
  const fields = modelFields(action, model);
  const rules: readonly ContractRule[] = [...action.rules, ...(overlay?.rules?.(model) ?? [])];
  const defaults = overlay?.effective ? overlay.effective(model, {}) : {};
  const c: Constraints = { required: new Set(), forbidden: new Set(), limited: new Map() };

  // A rule's condition on a field no form sends is known (absent); one on an offered field may have to wait for the
  // visitor's choice. Rules that hold whatever the visitor picks are applied here, which may offer more fields: repeat
  // until nothing changes (constraints only grow, so this ends).
  for (;;) {
    const offered = offerFields(fields, c, defaults, priced);
    if (!offered) return null;
    let changed = false;
    const dynamic: ChoiceRule[] = [];
    for (const rule of rules) {
      const open = openConditions(rule.when ?? {}, model, offered);
      if (open === false) continue;
      if (Object.keys(open).length > 0) {
        const r = choiceRule(rule, open, offered);
        if (r) dynamic.push(r);
        continue;
      }
      changed = applyStatic(rule, fields, offered, c) || changed;
    }
    if (changed) continue;
    const prompt = fields.get("prompt");
    return {
      prompt:
        prompt && !c.forbidden.has("prompt")
          ? {
              required: prompt.required === true || c.required.has("prompt"),
              ...(prompt.length && prompt.min !== undefined && prompt.min > 1 ? { min: prompt.min } : {}),
              ...(prompt.length && prompt.max !== undefined ? { max: prompt.max } : {}),
            }
          : null,
      fields: [...offered.values()],
      rules: dynamic,
    };
  }
}

/** The fields a form offers under the constraints so far; null when a required one cannot be asked for. */
function offerFields(fields: ReadonlyMap<string, FieldSpec>, c: Constraints, defaults: Record<string, unknown>, priced: ReadonlySet<string>) {
  const offered = new Map<string, FieldChoice>();
  const asked = (name: string) => fields.get(name)?.required === true || c.required.has(name);
  for (const [name, spec] of fields) {
    if (NOT_ASKED.has(name) || c.forbidden.has(name)) continue;
    const required = asked(name);
    // A setting of an input the form does not ask for (`reference_video_type` without `reference_video_url`).
    const input = name.replace(/_(type|mode|setting)$/, "");
    if (!required && input !== name && [`${input}_url`, `${input}_urls`].some((f) => fields.has(f) && !asked(f))) continue;
    const choice = fieldChoice(name, spec, required, c.limited.get(name), spec.default ?? defaults[name], priced.has(name));
    if (choice) offered.set(name, choice);
    else if (required) return null;
  }
  return offered;
}

/** How a form asks for one field, or undefined when it does not (or cannot). */
function fieldChoice(
  name: string,
  spec: FieldSpec,
  required: boolean,
  limited: Scalar[] | undefined,
  fallback: unknown,
  priced: boolean,
): FieldChoice | undefined {
  const label = fieldLabel(name);
  if (TASK_REFERENCE_FIELDS.includes(name)) return undefined;
  if (spec.type === "boolean") {
    return required || priced ? { name, kind: "check", label, default: fallback === true, required: true } : undefined;
  }
  let options: Scalar[] | undefined = spec.enum?.filter((v) => typeof v !== "boolean");
  if (!options && spec.type === "integer" && spec.min !== undefined && spec.max !== undefined && spec.max - spec.min < MAX_RANGE_VALUES) {
    if (required || fallback !== undefined || OFFERED_RANGE.test(name)) options = Array.from({ length: spec.max - spec.min + 1 }, (_, i) => spec.min! + i);
  }
  if (options && spec.type !== "array") {
    if (limited) options = options.filter((v) => limited.includes(v));
    if (options.length === 0) return undefined;
    const start = options.find((v) => v === fallback);
    return {
      name,
      kind: "select",
      label,
      options,
      ...(start !== undefined ? { default: start } : {}),
      ...(required || start !== undefined ? { required: true } : {}),
    };
  }
  if (!required) return undefined;
  if (URL_FIELD.test(name) && (spec.type === "string" || (spec.type === "array" && (!spec.items || ("type" in spec.items && spec.items.type === "string"))))) {
    return { name, kind: "url", label, required: true, ...(spec.type === "array" ? { list: true as const } : {}) };
  }
  if (spec.type === "string") return { name, kind: "text", label, required: true, ...(spec.length && spec.max !== undefined ? { max: spec.max } : {}) };
  if (spec.type === "integer" || spec.type === "number") {
    return {
      name,
      kind: "number",
      label,
      required: true,
      ...(spec.min !== undefined ? { min: spec.min } : {}),
      ...(spec.max !== undefined ? { max: spec.max } : {}),
    };
  }
  return undefined;
}

/** A rule's conditions that depend on the visitor's choices; false when it can never hold. */
function openConditions(when: Record<string, RuleCondition>, model: string, offered: ReadonlyMap<string, FieldChoice>): Record<string, RuleCondition> | false {
  const open: Record<string, RuleCondition> = {};
  for (const [field, cond] of Object.entries(when)) {
    const choice = offered.get(field);
    if (field === "model") {
      if (typeof cond === "object" ? !cond.present : cond !== model) return false;
    } else if (!choice) {
      // Never sent.
      if (typeof cond !== "object" || cond.present) return false;
    } else if (choice.required && typeof cond === "object") {
      // Always sent.
      if (!cond.present) return false;
    } else if (choice.options?.length === 1 && choice.required) {
      if (choice.options[0] !== cond) return false;
    } else {
      open[field] = cond;
    }
  }
  return open;
}

/** Applies a rule that holds whatever the visitor picks; whether anything changed. */
function applyStatic(rule: ContractRule, fields: ReadonlyMap<string, FieldSpec>, offered: ReadonlyMap<string, FieldChoice>, c: Constraints): boolean {
  let changed = false;
  const require = (f: string) => {
    if (fields.has(f) && !c.required.has(f)) {
      c.required.add(f);
      changed = true;
    }
  };
  for (const f of rule.required ?? []) require(f);
  for (const f of rule.forbidden ?? []) {
    if (!c.forbidden.has(f)) {
      c.forbidden.add(f);
      changed = true;
    }
  }
  for (const [f, allowed] of Object.entries(rule.enum ?? {})) {
    const before = c.limited.get(f);
    const next = before ? before.filter((v) => allowed.includes(v)) : [...allowed];
    if (!before || next.length !== before.length) {
      c.limited.set(f, next);
      changed = true;
    }
  }
  const any = rule.required_any ?? [];
  if (any.length && !any.some((f) => offered.get(f)?.required)) {
    const first = any.find((f) => fields.has(f) && !TASK_REFERENCE_FIELDS.includes(f));
    if (first) require(first);
  }
  return changed;
}

/** A rule that depends on the visitor's choices, in the form's terms; null when it touches nothing offered. */
function choiceRule(rule: ContractRule, when: Record<string, RuleCondition>, offered: ReadonlyMap<string, FieldChoice>): ChoiceRule | null {
  const out: ChoiceRule = { when: { ...when } };
  for (const f of rule.forbidden ?? []) {
    if (!offered.has(f)) continue;
    const cond = out.when[f];
    if (cond !== undefined && typeof cond !== "object") {
      // "Forbidden when it equals v" rules one value out.
      delete out.when[f];
      out.not = { ...out.not, [f]: [cond] };
    } else {
      out.hide = [...(out.hide ?? []), f];
    }
  }
  for (const [f, allowed] of Object.entries(rule.enum ?? {})) if (offered.get(f)?.options) out.only = { ...out.only, [f]: allowed };
  return out.only || out.not || out.hide ? out : null;
}
