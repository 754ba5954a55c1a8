import { z } from "zod";
import { BUNDLED_SCHEDULE } from "../src/catalog/schedule.gen";
import type { PriceSchedule } from "../src/catalog/types";
import { SimError } from "./env";

/**
 * The simulator's own copy of RunAPI's price schedule, in its full live shape (`GET /api/v1/price_schedules`,
 * runapi-ai/core-sdk `pricing.ts`): pure functions over the document the simulator's object stores.
 */

/** The schedule document as `GET /api/v1/price_schedules` answers it. */
export interface SimSchedule {
  as_of: string;
  price_schedules: PriceSchedule[];
}

/** Filters of `GET /api/v1/price_schedules`. */
export interface ScheduleFilters {
  service?: string;
  action?: string;
  model?: string;
}

const RATES = [
  "unit_price_cents",
  "input_price_per_1m_cents",
  "output_price_per_1m_cents",
  "cache_read_price_per_1m_cents",
  "cache_write_price_per_1m_cents",
  "cache_write_5m_price_per_1m_cents",
  "cache_write_1h_price_per_1m_cents",
] as const;

/** A service slug in the schedule's spelling (`veo_3_1` → `veo-3-1`). */
export const slug = (service: string): string => service.toLowerCase().replaceAll("_", "-");

/** One entry in RunAPI's full shape: statuses and currency filled in, absent rates null, the project's own notes dropped. */
export function fullEntry(e: PriceSchedule): PriceSchedule {
  const { source: _source, note: _note, ...rest } = e;
  const rates = Object.fromEntries(RATES.map((k) => [k, (e as unknown as Record<string, unknown>)[k] ?? null]));
  return {
    ...rest,
    service: slug(e.service),
    model: e.model ?? null,
    pricing_status: e.pricing_status ?? "available",
    catalog_status: e.catalog_status ?? "active",
    currency: e.currency ?? "USD",
    billing_unit: e.billing_unit ?? "task",
    billing_strategy: e.billing_strategy ?? "per_task",
    ...rates,
    billing_config: e.billing_config ?? {},
  };
}

/** The bundled schedule (src/catalog/schedule.gen.ts) as RunAPI would serve it. */
export function bundledSchedule(): SimSchedule {
  return { as_of: BUNDLED_SCHEDULE.as_of, price_schedules: BUNDLED_SCHEDULE.price_schedules.map(fullEntry) };
}

const sameKey = (a: { service: string; action: string; model?: string | null }, b: { service: string; action: string; model?: string | null }) =>
  slug(a.service) === slug(b.service) && a.action === b.action && (a.model ?? null) === (b.model ?? null);

/** The entry for a request: its model's, else the action's model-less one. */
export function findEntry(doc: SimSchedule, service: string, action: string, model: string | null): PriceSchedule | undefined {
  const of = (m: string | null) => doc.price_schedules.find((e) => sameKey(e, { service, action, model: m }));
  return (model !== null ? of(model) : undefined) ?? of(null);
}

/** The entries matching the filters (a service in either spelling). */
export function filterSchedule(doc: SimSchedule, f: ScheduleFilters): SimSchedule {
  const price_schedules = doc.price_schedules.filter(
    (e) => (!f.service || e.service === slug(f.service)) && (!f.action || e.action === f.action) && (!f.model || e.model === f.model),
  );
  return { as_of: doc.as_of, price_schedules };
}

/** A strong ETag of a response body: its SHA-256, quoted. */
export async function etagOf(body: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
  return `"${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")}"`;
}

/** Whether an `If-None-Match` header names the ETag (weak comparison, `*` included). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

const EntrySchema = z
  .object({
    service: z.string().min(1),
    action: z.string().min(1),
    model: z.string().min(1).nullable(),
    billing_strategy: z.string().min(1).optional(),
    unit_price_cents: z.number().nonnegative().nullable().optional(),
    billing_config: z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .loose();
const KeySchema = z.strictObject({ service: z.string().min(1), action: z.string().min(1), model: z.string().min(1).nullable() });

/** A change to the schedule (`POST /__sim/prices`): back to the bundled one, replace all, then upsert and remove entries. */
export const PatchSchema = z.strictObject({
  reset: z.boolean().optional(),
  replace: z.array(EntrySchema).optional(),
  set: z.array(EntrySchema).optional(),
  remove: z.array(KeySchema).optional(),
  as_of: z.string().min(1).optional(),
});

/** A parsed `POST /__sim/prices` body. */
export type SchedulePatch = z.infer<typeof PatchSchema>;

/** Parses a patch body or throws a 400. */
export function parsePatch(body: unknown): SchedulePatch {
  const parsed = PatchSchema.safeParse(body);
  if (!parsed.success) {
    throw new SimError(400, "invalid_request", parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
  }
  return parsed.data;
}

/** The schedule after a patch; `as_of` moves to `now` unless the patch names one. */
export function applyPatch(doc: SimSchedule, patch: SchedulePatch, now: Date): SimSchedule {
  let entries = patch.reset ? bundledSchedule().price_schedules : doc.price_schedules;
  if (patch.replace) entries = patch.replace.map((e) => fullEntry(e as PriceSchedule));
  for (const raw of patch.set ?? []) {
    const entry = fullEntry(raw as PriceSchedule);
    const at = entries.findIndex((e) => sameKey(e, entry));
    entries = at >= 0 ? entries.map((e, i) => (i === at ? entry : e)) : [...entries, entry];
  }
  for (const key of patch.remove ?? []) entries = entries.filter((e) => !sameKey(e, key));
  const as_of = patch.as_of ?? (patch.reset && !patch.replace && !patch.set && !patch.remove ? bundledSchedule().as_of : now.toISOString());
  return { as_of, price_schedules: entries };
}
