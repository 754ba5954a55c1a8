import type { FieldIssue } from "../lib/errors";
import { unsafeTargetReason } from "../domain/url-safety";
import { actionsOf, actionTakes, requiredByAll, type CatalogAction } from "./catalog";
import { modelFields, overlayFor, type Overlay } from "./overlays";
import { TASK_REFERENCE_FIELDS, type CatalogRequest } from "./request";
import type { ContractRule, FieldSpec, RuleCondition, Scalar } from "./types";

export interface ValidateOptions {
  /** Accept `http:` URLs too (local testing only; `ALLOW_HTTP_URLS`). */
  allowHttp: boolean;
  /** Accept a `callback_url` naming a private or loopback host (local testing only; `ALLOW_PRIVATE_URLS`). */
  allowPrivate?: boolean;
  /** A price quote: the fields sent are checked, required ones need not be sent (a prompt does not change the price). */
  partial?: boolean;
}

/** A request the catalog accepts, the tenant's own webhook for it, and the values pricing reads (defaults filled in). */
export interface ValidRequest {
  request: CatalogRequest;
  /** The tenant's webhook for this task (never forwarded as is). */
  callbackUrl?: string;
  /** `params` with the catalog's (and overlay's) defaults for what the client left out. */
  effective: Record<string, unknown>;
  /** Task-reference fields (`source_task_id`, …) holding the proxy's task ids, to swap for RunAPI's. */
  references: Record<string, string>;
}

export type ValidateResult = { ok: true; value: ValidRequest } | { ok: false; issues: FieldIssue[] };

export const MAX_URL_CHARS = 2048;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const URL_FIELD = /_url$|_urls$|_url_list$/;
const patterns = new Map<string, RegExp | null>();

/**
 * Validates a create body for one catalog action (SPEC §12): unknown fields, required, types, enums,
 * ranges, item counts, patterns, the contract's cross-field rules, and every URL field an `https:`
 * URL; then the service's overlay (Hailuo's aliases and stricter rules). Every problem is reported,
 * each under the field name the client used. `null` on a field counts as "not sent".
 */
export function validateRequest(action: CatalogAction, body: unknown, opts: ValidateOptions): ValidateResult {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, issues: [{ field: "", message: "request body must be a JSON object" }] };
  }
  const issues: FieldIssue[] = [];
  const overlay = overlayFor(action.service);
  const { input, sentAs } = renameAliases(body as Record<string, unknown>, overlay, issues);
  const name = (field: string) => sentAs.get(field) ?? field;
  const issue = (field: string, message: string) => issues.push({ field: name(field), message });

  const model = pickModel(action, input, overlay, issue);
  const forModel = model.name ? ` for ${model.name}` : "";
  const fields = modelFields(model.servedBy, model.name);
  const params: Record<string, unknown> = {};
  let callbackUrl: string | undefined;
  const references: Record<string, string> = {};

  for (const [key, value] of Object.entries(input)) {
    if (key === "model" || value === undefined || value === null) continue;
    if (key === "callback_url") {
      const problem = urlProblem(value, opts, !opts.allowPrivate);
      if (problem) issue(key, problem);
      else callbackUrl = value as string;
      continue;
    }
    const spec = fields.get(key);
    if (!spec) {
      const reason = model.name ? overlay?.notAccepted?.(model.name, key) : undefined;
      if (reason) issue(key, `not accepted for ${model.name}: ${reason}`);
      else if (model.name && actionTakes(model.servedBy, key)) issue(key, `not accepted for ${model.name}`);
      else issue(key, "unknown field");
      continue;
    }
    const before = issues.length;
    checkValue(key, value, spec, forModel, issue);
    if (issues.length === before && URL_FIELD.test(key)) {
      for (const url of Array.isArray(value) ? value : [value]) {
        const problem = urlProblem(url, opts, false);
        if (problem) {
          issue(key, problem);
          break;
        }
      }
    }
    if (issues.length === before && TASK_REFERENCE_FIELDS.includes(key)) {
      if (typeof value === "string" && UUID.test(value)) references[key] = value;
      else issue(key, "must be the id of one of your earlier tasks (a UUID)");
    }
    params[key] = value;
  }

  for (const [key, spec] of opts.partial ? [] : fields) {
    if (key === "model" || key === "callback_url" || !spec.required || params[key] !== undefined) continue;
    const everyModel = requiredByAll(model.servedBy, key) || overlay?.fields?.(undefined)?.[key]?.required === true;
    issue(key, model.name && !everyModel ? `is required for ${model.name}` : "is required");
  }
  const sent = model.name ? { ...params, model: model.name } : params;
  for (const rule of model.servedBy.rules) checkRule(opts.partial ? { ...rule, required: [], required_any: [] } : rule, sent, issue);
  if (model.name && !opts.partial) overlay?.check?.(model.name, params, issue);

  if (issues.length > 0 || model.bad) return { ok: false, issues };
  const defaults = Object.fromEntries([...fields].filter(([k, s]) => s.default !== undefined && k !== "model").map(([k, s]) => [k, s.default]));
  const filled = { ...defaults, ...params };
  const effective = model.name && overlay?.effective ? overlay.effective(model.name, filled) : filled;
  const upstream = model.name && overlay?.upstream ? overlay.upstream(model.name, params, effective) : params;
  const request: CatalogRequest = { service: action.service, action: action.action, model: model.name ?? null, params: upstream };
  return { ok: true, value: { request, effective, references, ...(callbackUrl !== undefined ? { callbackUrl } : {}) } };
}

/** Legacy names renamed to canonical ones; both sent: the same value is fine, different values are an issue on the alias. */
function renameAliases(body: Record<string, unknown>, overlay: Overlay | undefined, issues: FieldIssue[]) {
  const sentAs = new Map<string, string>();
  if (!overlay?.aliases) return { input: body, sentAs };
  const input: Record<string, unknown> = { ...body };
  for (const [alias, canonical] of Object.entries(overlay.aliases)) {
    const value = input[alias];
    delete input[alias];
    if (value === undefined || value === null) continue;
    const normalised = overlay.normaliseAlias?.[alias]?.(value) ?? value;
    const current = input[canonical];
    if (current !== undefined && current !== null) {
      if (normalised !== current) issues.push({ field: alias, message: `conflicts with ${canonical}: send only one of them` });
      continue;
    }
    input[canonical] = normalised;
    sentAs.set(canonical, alias);
  }
  return { input, sentAs };
}

/** The request's model and whose fields apply. */
interface PickedModel {
  /** The model named (or the action's only one); undefined when none is known. */
  name: string | undefined;
  /** The action whose fields and rules apply: this one, or the one that serves a model sent to the wrong action. */
  servedBy: CatalogAction;
  /** The model is missing, unknown or served elsewhere: the request fails whatever else holds. */
  bad: boolean;
}

/** The request's model: named and served by this action, the action's only model, or none for an action without models. */
function pickModel(action: CatalogAction, input: Record<string, unknown>, overlay: Overlay | undefined, issue: (f: string, m: string) => void): PickedModel {
  const raw = input.model;
  const none = raw === undefined || raw === null;
  if (action.models.length === 0 || (!action.takesModel && none)) {
    if (action.models.length === 0 && !none) issue("model", `not accepted: ${action.action} takes no model`);
    // An action with one model and no `model` field is that model's; with several, RunAPI picks (priced at the most).
    return { name: action.models.length === 1 ? action.models[0] : undefined, servedBy: action, bad: false };
  }
  if (none) {
    issue("model", "is required");
    return { name: undefined, servedBy: action, bad: true };
  }
  if (typeof raw !== "string") {
    issue("model", "must be a string");
    return { name: undefined, servedBy: action, bad: true };
  }
  const model = overlay?.normaliseModel?.(raw) ?? raw;
  if (action.models.includes(model)) return { name: model, servedBy: action, bad: false };
  const elsewhere = actionsOf(action.service).find((a) => a.models.includes(model));
  if (!elsewhere) {
    issue("model", `unknown model; ${action.action} models are ${action.models.join(", ")}`);
    return { name: undefined, servedBy: action, bad: true };
  }
  issue("model", `${model} is served by ${elsewhere.action}: send it to POST ${elsewhere.path}`);
  // Keep validating against the model's own fields: the client gets every problem at once.
  return { name: model, servedBy: elsewhere, bad: true };
}

/** Checks one value against its spec; reports the first problem. */
function checkValue(field: string, value: unknown, spec: FieldSpec, forModel: string, issue: (f: string, m: string) => void): void {
  const problem = valueProblem(value, spec, forModel);
  if (problem) issue(field, problem);
}

function valueProblem(value: unknown, spec: FieldSpec, forModel: string): string | undefined {
  switch (spec.type) {
    case "string":
      if (typeof value !== "string") return spec.enum ? `must be ${orList(spec.enum)}${forModel}` : "must be a string";
      break;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) return spec.enum ? `must be ${orList(spec.enum)}${forModel}` : "must be an integer";
      break;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) return spec.enum ? `must be ${orList(spec.enum)}${forModel}` : "must be a number";
      break;
    case "boolean":
      if (typeof value !== "boolean") return "must be true or false";
      break;
    case "array":
      if (!Array.isArray(value)) return "must be an array";
      return arrayProblem(value, spec);
    case "object":
      if (typeof value !== "object" || value === null || Array.isArray(value)) return "must be an object";
      break;
  }
  if (spec.enum && !spec.enum.includes(value as Scalar)) return `must be ${orList(spec.enum)}${forModel}`;
  if (typeof value === "string") {
    if (spec.pattern && !compiled(spec.pattern)?.test(value)) return `must match ${spec.pattern}`;
    if (spec.length) {
      const length = codePoints(value);
      const on = forModel.replace(/^ for /, " on ");
      if (spec.max !== undefined && length > spec.max) return `must be at most ${spec.max} characters${on} (got ${length})`;
      if (spec.min !== undefined && length < spec.min) return `must be at least ${spec.min} character${spec.min === 1 ? "" : "s"}${on}`;
    }
  }
  if (typeof value === "number") {
    if (spec.min !== undefined && value < spec.min)
      return spec.max !== undefined ? `must be between ${spec.min} and ${spec.max}` : `must be at least ${spec.min}`;
    if (spec.max !== undefined && value > spec.max)
      return spec.min !== undefined ? `must be between ${spec.min} and ${spec.max}` : `must be at most ${spec.max}`;
  }
  return undefined;
}

function arrayProblem(value: unknown[], spec: FieldSpec): string | undefined {
  if (spec.min_items !== undefined && value.length < spec.min_items) return `must have at least ${spec.min_items} item${spec.min_items === 1 ? "" : "s"}`;
  if (spec.max_items !== undefined && value.length > spec.max_items) return `must have at most ${spec.max_items} item${spec.max_items === 1 ? "" : "s"}`;
  const items = spec.items;
  if (!items) return undefined;
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    if ("properties" in items) {
      if (typeof item !== "object" || item === null || Array.isArray(item)) return `[${i}] must be an object`;
      const obj = item as Record<string, unknown>;
      for (const key of Object.keys(obj)) if (!(key in items.properties)) return `[${i}].${key}: unknown field`;
      for (const [key, prop] of Object.entries(items.properties)) {
        const v = obj[key];
        if (v === undefined || v === null) {
          if (prop.required) return `[${i}].${key}: is required`;
          continue;
        }
        const problem = valueProblem(v, prop, "");
        if (problem) return `[${i}].${key}: ${problem}`;
      }
    } else {
      const problem = valueProblem(item, items, "");
      if (problem) return `[${i}] ${problem}`;
    }
  }
  return undefined;
}

/** A contract rule (SPEC §12): when every condition holds, fields are required, forbidden, limited, or one of a set is needed. */
function checkRule(rule: ContractRule, sent: Record<string, unknown>, issue: (f: string, m: string) => void): void {
  if (rule.when && !Object.entries(rule.when).every(([field, cond]) => holds(sent[field], cond))) return;
  const when = rule.when ? ` when ${describe(rule.when)}` : "";
  for (const field of rule.required ?? []) if (sent[field] === undefined) issue(field, `is required${when}`);
  for (const field of rule.forbidden ?? []) if (sent[field] !== undefined) issue(field, `not accepted${when}`);
  for (const [field, allowed] of Object.entries(rule.enum ?? {})) {
    const value = sent[field];
    if (value !== undefined && !allowed.includes(value as Scalar)) issue(field, `must be ${orList(allowed)}${when}`);
  }
  const any = rule.required_any;
  if (any?.length && !any.some((f) => sent[f] !== undefined)) issue(any[0]!, `one of ${any.join(", ")} is required${when}`);
}

function holds(value: unknown, cond: RuleCondition): boolean {
  if (typeof cond === "object") return (value !== undefined) === cond.present;
  return value === cond;
}

function describe(when: Record<string, RuleCondition>): string {
  return Object.entries(when)
    .map(([field, cond]) => (typeof cond === "object" ? `${field} is ${cond.present ? "set" : "not set"}` : `${field} is ${String(cond)}`))
    .join(" and ");
}

/** An absolute `https:` URL (`http:` too when allowed), at most 2048 characters; a `target` (one the proxy POSTs to) must not point inward. */
export function urlProblem(value: unknown, opts: ValidateOptions, target: boolean): string | undefined {
  if (typeof value !== "string") return "must be a string";
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
  if (target) return unsafeTargetReason(url) ?? undefined;
  return undefined;
}

/** "a, b or c". */
export function orList(values: readonly unknown[]): string {
  const text = values.map(String);
  return text.length === 1 ? text[0]! : `${text.slice(0, -1).join(", ")} or ${text.at(-1)}`;
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
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
