import type { PriceSchedule } from "../catalog/types";
import { AppError } from "./errors";
import { log } from "./log";
import { activeSchedule, saveSchedule, storedSchedule, type StoredSchedule } from "./price-store";

/** What a sync needs of RunAPI (the upstream client is one). */
export interface ScheduleSource {
  priceSchedules(etag: string | null): Promise<{ etag: string | null; body: Record<string, unknown> } | null>;
}

/** What a sync did: whether the schedule changed, and which prices (service/action/model) came, went or changed. */
export interface SyncReport {
  changed: boolean;
  as_of: string;
  etag: string;
  synced_at: string;
  prices: number;
  added: string[];
  removed: string[];
  updated: string[];
  /** Entries RunAPI sent that the proxy could not read (left out; the rest is used). */
  rejected: number;
}

/** The schedule is refreshed in the background when a request finds it older than this. */
export const STALE_AFTER_MS = 6 * 3600_000;
const MAX_ENTRIES = 20_000;
const RATES = ["unit_price_cents", "input_price_per_1m_cents", "output_price_per_1m_cents", "cache_read_price_per_1m_cents", "cache_write_price_per_1m_cents"];
const label = (s: PriceSchedule) => `${s.service}/${s.action}${s.model ? `/${s.model}` : ""}`;

/**
 * Fetches RunAPI's live price schedule (conditional on the ETag held) into KV (SPEC §12): by the cron
 * trigger, `POST /admin/v1/prices/sync`, and in the background when stale. An entry that is not a price
 * (wrong types, a negative or non-finite number) is left out; a schedule with no usable entry is refused
 * and the one in force stays.
 */
export async function syncSchedule(kv: KVNamespace, source: ScheduleSource, now = Date.now()): Promise<SyncReport> {
  const previous = await storedSchedule(kv);
  const fetched = await source.priceSchedules(previous?.etag ?? null);
  if (fetched === null && previous) {
    const touched = { ...previous, synced_at: now };
    await saveSchedule(kv, touched);
    return report(touched, previous, false, 0);
  }
  if (fetched === null) throw new AppError("upstream_error", "RunAPI answered 304 to a first price schedule request");
  const raw = fetched.body.price_schedules;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_ENTRIES) {
    throw new AppError("upstream_error", "RunAPI's price schedule has no price_schedules list; the schedule in force stays");
  }
  const entries = raw.map(readEntry);
  const valid = entries.filter((e): e is PriceSchedule => e !== null);
  if (!valid.length) throw new AppError("upstream_error", "RunAPI's price schedule has no usable price; the schedule in force stays");
  const asOf = typeof fetched.body.as_of === "string" ? fetched.body.as_of.slice(0, 40) : new Date(now).toISOString();
  const stored: StoredSchedule = {
    as_of: asOf,
    etag: fetched.etag ?? `"synced-${now}"`,
    synced_at: now,
    price_schedules: valid,
  };
  await saveSchedule(kv, stored);
  const result = report(stored, previous, true, entries.length - valid.length);
  log.info("price_schedule_synced", { prices: result.prices, added: result.added.length, removed: result.removed.length, updated: result.updated.length });
  return result;
}

/**
 * Refreshes a synced schedule in the background when its last sync is older than STALE_AFTER_MS (the cron trigger
 * has been failing). The bundled snapshot is left to the cron and `POST /admin/v1/prices/sync`: an offline
 * deployment keeps its default without a fetch on every request.
 */
export async function refreshIfStale(kv: KVNamespace, source: ScheduleSource, waitUntil: (p: Promise<unknown>) => void): Promise<void> {
  const active = await activeSchedule(kv);
  if (active.synced_at === null || Date.now() - active.synced_at < STALE_AFTER_MS) return;
  if (refreshing) return;
  refreshing = true;
  waitUntil(
    syncSchedule(kv, source)
      .catch((err: unknown) => log.warn("price_schedule_sync_failed", { error: err instanceof AppError ? err.code : "unknown" }))
      .finally(() => {
        refreshing = false;
      }),
  );
}
let refreshing = false;

function report(now: StoredSchedule, before: StoredSchedule | null, fetched: boolean, rejected: number): SyncReport {
  const old = new Map((before?.price_schedules ?? []).map((s) => [label(s), JSON.stringify(s)]));
  const cur = new Map(now.price_schedules.map((s) => [label(s), JSON.stringify(s)]));
  const added = [...cur.keys()].filter((k) => !old.has(k));
  const removed = [...old.keys()].filter((k) => !cur.has(k));
  const updated = [...cur].filter(([k, v]) => old.has(k) && old.get(k) !== v).map(([k]) => k);
  return {
    changed: fetched && (added.length + removed.length + updated.length > 0 || before === null),
    as_of: now.as_of,
    etag: now.etag,
    synced_at: new Date(now.synced_at).toISOString(),
    prices: now.price_schedules.length,
    added,
    removed,
    updated,
    rejected,
  };
}

/** One entry of RunAPI's schedule, checked; null when it is not a usable price. */
function readEntry(raw: unknown): PriceSchedule | null {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return null;
  const e = raw as Record<string, unknown>;
  const slug = (v: unknown) => typeof v === "string" && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(v);
  if (!slug(e.service) || !slug(e.action) || !(e.model === null || e.model === undefined || slug(e.model))) return null;
  const out: PriceSchedule = {
    service: (e.service as string).replaceAll("_", "-"),
    action: e.action as string,
    model: (e.model as string | undefined) ?? null,
  };
  for (const f of ["pricing_status", "catalog_status", "currency", "billing_unit", "billing_strategy"] as const) {
    if (typeof e[f] === "string" && (e[f] as string).length <= 64) out[f] = e[f] as string;
  }
  for (const f of RATES) {
    const v = e[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 1e9) return null;
    (out as unknown as Record<string, number>)[f] = v;
  }
  const config = e.billing_config;
  if (config !== undefined && config !== null) {
    if (typeof config !== "object" || Array.isArray(config) || JSON.stringify(config).length > 16_384 || !pricesAreSane(config)) return null;
    out.billing_config = config as Record<string, unknown>;
  }
  out.source = "published";
  return out;
}

/** Every number in a billing config is a finite, non-negative amount. */
function pricesAreSane(value: unknown): boolean {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 && value <= 1e9;
  if (Array.isArray(value)) return value.every((v) => typeof v !== "number" || pricesAreSane(v));
  if (value && typeof value === "object") return Object.values(value).every(pricesAreSane);
  return true;
}
