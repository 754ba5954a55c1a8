import type { FieldIssue } from "../lib/errors";
import type { Micros } from "./money";

/** A markup for part of the catalog: a service, optionally one action, optionally one model. */
export interface MarkupOverride {
  service: string;
  action?: string;
  model?: string;
  markup_percent: number;
}

/** The operator's pricing: a default markup on RunAPI's prices and overrides per service/action/model (SPEC §12). */
export interface MarkupConfig {
  markup_percent: number;
  overrides: MarkupOverride[];
}

export const NO_MARKUP: MarkupConfig = { markup_percent: 0, overrides: [] };
/** A markup between −100 % (free) and +10 000 %, in hundredths of a percent at most. */
const MIN_PERCENT = -100;
const MAX_PERCENT = 10_000;

/** Which markup applies: the tenant's most specific override, its own default, the global most specific override, the global default. */
export function markupPercent(
  global: MarkupConfig,
  tenant: Partial<MarkupConfig> | undefined,
  target: { service: string; action: string; model: string | null },
): number {
  return mostSpecific(tenant?.overrides ?? [], target) ?? tenant?.markup_percent ?? mostSpecific(global.overrides, target) ?? global.markup_percent;
}

function mostSpecific(overrides: readonly MarkupOverride[], t: { service: string; action: string; model: string | null }): number | undefined {
  let best: { score: number; percent: number } | undefined;
  for (const o of overrides) {
    if (o.service !== t.service || (o.action !== undefined && o.action !== t.action) || (o.model !== undefined && o.model !== t.model)) continue;
    const score = (o.action !== undefined ? 1 : 0) + (o.model !== undefined ? 2 : 0);
    if (!best || score > best.score) best = { score, percent: o.markup_percent };
  }
  return best?.percent;
}

/** RunAPI's cost with a markup, rounded up to the next micro-dollar (integer arithmetic on hundredths of a percent). */
export function withMarkup(costMicros: Micros, percent: number): Micros {
  if (percent === 0) return costMicros;
  const factor = BigInt(10_000 + Math.round(percent * 100)); // parts per 10 000
  return Number((BigInt(costMicros) * factor + 9_999n) / 10_000n);
}

/** Checks an operator's markup config (`PUT /admin/v1/prices`, tenant `markup_percent`/`markup_overrides`). */
export function parseMarkup(input: unknown, path = ""): { ok: true; value: MarkupConfig } | { ok: false; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const at = (f: string) => (path ? `${path}.${f}` : f);
  if (!input || typeof input !== "object" || Array.isArray(input)) return { ok: false, issues: [{ field: path, message: "must be an object" }] };
  const body = input as Record<string, unknown>;
  for (const k of Object.keys(body)) if (k !== "markup_percent" && k !== "overrides") issues.push({ field: at(k), message: "unknown field" });
  const percent = checkPercent(body.markup_percent ?? 0, at("markup_percent"), issues);
  const overrides: MarkupOverride[] = [];
  const raw = body.overrides ?? [];
  if (!Array.isArray(raw)) issues.push({ field: at("overrides"), message: "must be an array" });
  else
    raw.forEach((o: unknown, i) => {
      const f = at(`overrides[${i}]`);
      const parsed = parseOverride(o, f, issues);
      if (parsed) overrides.push(parsed);
    });
  return issues.length ? { ok: false, issues } : { ok: true, value: { markup_percent: percent ?? 0, overrides } };
}

/** One override: `{service, action?, model?, markup_percent}`. */
export function parseOverride(o: unknown, f: string, issues: FieldIssue[]): MarkupOverride | undefined {
  if (!o || typeof o !== "object" || Array.isArray(o)) return void issues.push({ field: f, message: "must be an object" });
  const e = o as Record<string, unknown>;
  const before = issues.length;
  for (const k of Object.keys(e))
    if (!["service", "action", "model", "markup_percent"].includes(k)) issues.push({ field: `${f}.${k}`, message: "unknown field" });
  for (const k of ["service", "action", "model"]) {
    const v = e[k];
    if ((k === "service" || v !== undefined) && (typeof v !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(v)))
      issues.push({ field: `${f}.${k}`, message: k === "service" ? "is required: a service slug" : "must be a slug" });
  }
  const percent = checkPercent(e.markup_percent, `${f}.markup_percent`, issues);
  if (issues.length > before || percent === undefined) return undefined;
  return {
    service: (e.service as string).replaceAll("_", "-"),
    ...(typeof e.action === "string" ? { action: e.action } : {}),
    ...(typeof e.model === "string" ? { model: e.model } : {}),
    markup_percent: percent,
  };
}

/** A percentage from −100 to 10 000 with at most 2 decimals. */
export function checkPercent(value: unknown, field: string, issues: FieldIssue[]): number | undefined {
  if (typeof value !== "number" || !Number.isFinite(value) || value < MIN_PERCENT || value > MAX_PERCENT || Number(value.toFixed(2)) !== value) {
    issues.push({ field, message: `must be a percentage from ${MIN_PERCENT} to ${MAX_PERCENT} with at most 2 decimals` });
    return undefined;
  }
  return value;
}
