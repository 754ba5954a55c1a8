import { actionsOf, fieldsFor, type CatalogAction } from "../src/catalog/catalog";
import type { ContractRule, FieldSpec, RuleCondition, Scalar } from "../src/catalog/types";
import { hailuoIssues } from "./hailuo";

/**
 * The simulator's own reading of RunAPI's request contract (never the proxy's validator): a request the
 * proxy lets through that RunAPI would refuse surfaces here as RunAPI's 400. RunAPI-like, not proxy-like:
 * no legacy aliases, `null` counts as "not sent", URL fields need an absolute http(s) URL.
 */

/** One problem with a request, named by its field ("" for the body). */
export interface SimIssue {
  field: string;
  message: string;
}

/** A request as the simulator accepts it: the model it names (or implies) and its fields. */
export type Checked = { ok: true; model: string | null; body: Record<string, unknown> } | { ok: false; issues: SimIssue[] };

/** `partial`: a price quote's params, where required fields need not be sent. */
export interface CheckOptions {
  partial?: boolean;
}

const URL_FIELD = /_urls?$/;
const patterns = new Map<string, RegExp | null>();

/** Checks a create body against the contract of one action (and Hailuo's real constraints); every problem is listed. */
export function checkRequest(action: CatalogAction, raw: unknown, opts: CheckOptions = {}): Checked {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { ok: false, issues: [{ field: "", message: "body must be a JSON object" }] };
  const body = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== null && v !== undefined));
  const issues: SimIssue[] = [];
  const issue = (field: string, message: string) => issues.push({ field, message });
  const model = modelOf(action, body.model, issue);
  if (model === undefined) return { ok: false, issues };
  const fields = fieldsFor(action, model);

  for (const [key, value] of Object.entries(body)) {
    if (key === "model" && action.takesModel && action.models.length > 0) continue; // checked by modelOf
    const spec = fields.get(key);
    if (!spec) {
      issue(key, model && key !== "model" ? `unknown field for ${model}` : "unknown field");
      continue;
    }
    const problem = valueProblem(value, spec) ?? (URL_FIELD.test(key) ? urlProblem(value) : undefined);
    if (problem) issue(key, problem);
  }
  if (!opts.partial) {
    for (const [key, spec] of fields) if (spec.required && key !== "model" && body[key] === undefined) issue(key, "is required");
  }
  const sent = model !== null ? { ...body, model } : body;
  for (const rule of action.rules) checkRule(rule, sent, opts, issue);
  if (action.service === "hailuo" && model !== null) issues.push(...hailuoIssues(model, body, opts));
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, model, body };
}

/** The request's model: named and served here, the field's default, or the action's only one; undefined after an issue. */
function modelOf(action: CatalogAction, raw: unknown, issue: (f: string, m: string) => void): string | null | undefined {
  if (!action.takesModel) return action.models.length === 1 ? action.models[0]! : null;
  if (raw === undefined) {
    // The contract may give the model field a default (on its own model's roster).
    const byDefault = [null, ...action.models].map((m) => fieldsFor(action, m).get("model")?.default).find((d) => typeof d === "string");
    const fallback = (byDefault as string | undefined) ?? (action.models.length === 1 ? action.models[0] : undefined);
    if (fallback !== undefined || action.models.length === 0) return fallback ?? null;
    issue("model", `is required: one of ${action.models.join(", ")}`);
    return undefined;
  }
  if (typeof raw !== "string") {
    issue("model", "must be a string");
    return undefined;
  }
  if (action.models.length === 0) return null; // a model field without a model list (its enum is checked as a field)
  if (action.models.includes(raw)) return raw;
  const elsewhere = actionsOf(action.service).find((a) => a.models.includes(raw));
  issue("model", elsewhere ? `${raw} is not available on ${action.action}; use ${elsewhere.action}` : `unknown model ${raw}`);
  return undefined;
}

/** The first problem of a value against its spec, or undefined. */
export function valueProblem(value: unknown, spec: FieldSpec): string | undefined {
  const typed = typeProblem(value, spec);
  if (typed) return typed;
  if (spec.enum && !spec.enum.includes(value as Scalar)) return `must be one of ${spec.enum.map(String).join(", ")}`;
  if (typeof value === "string") {
    if (spec.pattern && !compiled(spec.pattern)?.test(value)) return `must match ${spec.pattern}`;
    const chars = [...value].length;
    if (spec.length && spec.max !== undefined && chars > spec.max) return `must be at most ${spec.max} characters`;
    if (spec.length && spec.min !== undefined && chars < spec.min) return `must be at least ${spec.min} characters`;
  }
  if (typeof value === "number") {
    if (spec.min !== undefined && value < spec.min) return `must be at least ${spec.min}`;
    if (spec.max !== undefined && value > spec.max) return `must be at most ${spec.max}`;
  }
  if (Array.isArray(value)) return itemsProblem(value, spec);
  return undefined;
}

function typeProblem(value: unknown, spec: FieldSpec): string | undefined {
  switch (spec.type) {
    case "string":
      return typeof value === "string" ? undefined : "must be a string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value) ? undefined : "must be an integer";
    case "number":
      return typeof value === "number" && Number.isFinite(value) ? undefined : "must be a number";
    case "boolean":
      return typeof value === "boolean" ? undefined : "must be a boolean";
    case "array":
      return Array.isArray(value) ? undefined : "must be an array";
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value) ? undefined : "must be an object";
  }
}

function itemsProblem(items: unknown[], spec: FieldSpec): string | undefined {
  if (spec.min_items !== undefined && items.length < spec.min_items) return `must have at least ${spec.min_items} item(s)`;
  if (spec.max_items !== undefined && items.length > spec.max_items) return `must have at most ${spec.max_items} item(s)`;
  const of = spec.items;
  for (const [i, item] of items.entries()) {
    if (of && "properties" in of) {
      if (typeof item !== "object" || item === null || Array.isArray(item)) return `item ${i} must be an object`;
      const obj = item as Record<string, unknown>;
      const stray = Object.keys(obj).find((k) => !(k in of.properties));
      if (stray) return `item ${i} has an unknown field ${stray}`;
      for (const [key, prop] of Object.entries(of.properties)) {
        const v = obj[key];
        if (v === undefined || v === null) {
          if (prop.required) return `item ${i}: ${key} is required`;
          continue;
        }
        const problem = valueProblem(v, prop);
        if (problem) return `item ${i}: ${key} ${problem}`;
      }
    } else if (of) {
      const problem = valueProblem(item, of);
      if (problem) return `item ${i} ${problem}`;
    }
  }
  return undefined;
}

/** An absolute http(s) URL (or a list of them), as RunAPI fetches inputs. */
function urlProblem(value: unknown): string | undefined {
  for (const one of Array.isArray(value) ? value : [value]) {
    if (typeof one !== "string") return "must hold URLs";
    let url: URL;
    try {
      url = new URL(one);
    } catch {
      return `must be an absolute URL (got ${one.slice(0, 80)})`;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an http(s) URL";
  }
  return undefined;
}

/** One contract rule: when all its conditions hold, fields are required, forbidden, limited, or one of a set is needed. */
function checkRule(rule: ContractRule, sent: Record<string, unknown>, opts: CheckOptions, issue: (f: string, m: string) => void): void {
  if (rule.when && !Object.entries(rule.when).every(([field, cond]) => holds(sent[field], cond))) return;
  const when = rule.when ? ` when ${whenText(rule.when)}` : "";
  for (const field of rule.forbidden ?? []) if (sent[field] !== undefined) issue(field, `is not allowed${when}`);
  for (const [field, allowed] of Object.entries(rule.enum ?? {})) {
    const v = sent[field];
    if (v !== undefined && !allowed.includes(v as Scalar)) issue(field, `must be one of ${allowed.map(String).join(", ")}${when}`);
  }
  if (opts.partial) return;
  for (const field of rule.required ?? []) if (sent[field] === undefined) issue(field, `is required${when}`);
  const any = rule.required_any ?? [];
  if (any.length > 0 && !any.some((f) => sent[f] !== undefined)) issue(any[0]!, `one of ${any.join(", ")} is required${when}`);
}

/** Whether a rule's condition holds for a value (equal, or present/absent). */
export function holds(value: unknown, cond: RuleCondition): boolean {
  return typeof cond === "object" ? (value !== undefined) === cond.present : value === cond;
}

function whenText(when: Record<string, RuleCondition>): string {
  return Object.entries(when)
    .map(([f, c]) => (typeof c === "object" ? `${f} is ${c.present ? "set" : "not set"}` : `${f} is ${String(c)}`))
    .join(" and ");
}

function compiled(pattern: string): RegExp | null {
  if (!patterns.has(pattern)) {
    try {
      patterns.set(pattern, new RegExp(pattern, "u"));
    } catch {
      patterns.set(pattern, null);
    }
  }
  return patterns.get(pattern)!;
}

/** The issues as one message, `field: problem; …`. */
export function issuesText(issues: readonly SimIssue[]): string {
  return issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join("; ");
}
