import { BUNDLED_SCHEDULE } from "../catalog/schedule.gen";
import type { PriceSchedule } from "../catalog/types";
import { NO_MARKUP, type MarkupConfig } from "../domain/markup";
import { indexSchedule, type ScheduleIndex } from "../domain/price-schedule";

/** Where the active schedule came from. */
export interface ActiveSchedule {
  index: ScheduleIndex;
  as_of: string;
  /** RunAPI's ETag of the synced schedule; the bundle's own tag before the first sync. */
  etag: string;
  /** When the schedule was last fetched from RunAPI (ms), or null for the bundled snapshot. */
  synced_at: number | null;
  origin: "runapi" | "bundled";
}

/** What KV keeps of a synced schedule. */
export interface StoredSchedule {
  as_of: string;
  etag: string;
  synced_at: number;
  price_schedules: PriceSchedule[];
}

const SCHEDULE_KEY = "price_schedule:v1";
const MARKUP_KEY = "pricing:markup";
const MEMO_MS = 10_000;

const BUNDLED: ActiveSchedule = {
  index: indexSchedule(BUNDLED_SCHEDULE.price_schedules),
  as_of: BUNDLED_SCHEDULE.as_of,
  etag: `"bundled-${BUNDLED_SCHEDULE.as_of}"`,
  synced_at: null,
  origin: "bundled",
};

let scheduleMemo: { at: number; value: ActiveSchedule } | null = null;
let markupMemo: { at: number; value: MarkupConfig } | null = null;

/** The schedule in force: RunAPI's last synced one from KV, else the bundled snapshot. Memoised briefly per isolate. */
export async function activeSchedule(kv: KVNamespace): Promise<ActiveSchedule> {
  if (scheduleMemo && Date.now() - scheduleMemo.at < MEMO_MS) return scheduleMemo.value;
  const stored = await kv.get<StoredSchedule>(SCHEDULE_KEY, { type: "json", cacheTtl: 30 });
  // The index is rebuilt only when the schedule itself changed.
  const value =
    stored === null
      ? BUNDLED
      : scheduleMemo?.value.etag === stored.etag && scheduleMemo.value.origin === "runapi"
        ? { ...scheduleMemo.value, synced_at: stored.synced_at }
        : { index: indexSchedule(stored.price_schedules), as_of: stored.as_of, etag: stored.etag, synced_at: stored.synced_at, origin: "runapi" as const };
  scheduleMemo = { at: Date.now(), value };
  return value;
}

/** The stored schedule's tag and time, for a conditional sync (null before the first). */
export async function storedScheduleTag(kv: KVNamespace): Promise<{ etag: string; synced_at: number } | null> {
  const stored = await kv.get<StoredSchedule>(SCHEDULE_KEY, "json");
  return stored ? { etag: stored.etag, synced_at: stored.synced_at } : null;
}

/** Stores a schedule fetched from RunAPI and makes it active in this isolate at once. */
export async function saveSchedule(kv: KVNamespace, schedule: StoredSchedule): Promise<void> {
  await kv.put(SCHEDULE_KEY, JSON.stringify(schedule));
  scheduleMemo = {
    at: Date.now(),
    value: { index: indexSchedule(schedule.price_schedules), as_of: schedule.as_of, etag: schedule.etag, synced_at: schedule.synced_at, origin: "runapi" },
  };
}

/** The whole stored schedule (for a sync's diff), or null before the first. */
export async function storedSchedule(kv: KVNamespace): Promise<StoredSchedule | null> {
  return kv.get<StoredSchedule>(SCHEDULE_KEY, "json");
}

/** The operator's global markup (SPEC §12), 0 until set. Memoised briefly per isolate. */
export async function activeMarkup(kv: KVNamespace): Promise<MarkupConfig> {
  if (markupMemo && Date.now() - markupMemo.at < MEMO_MS) return markupMemo.value;
  const value = (await kv.get<MarkupConfig>(MARKUP_KEY, { type: "json", cacheTtl: 30 })) ?? NO_MARKUP;
  markupMemo = { at: Date.now(), value };
  return value;
}

/** Stores the operator's global markup (already validated) and makes it active in this isolate at once. */
export async function saveMarkup(kv: KVNamespace, markup: MarkupConfig): Promise<void> {
  await kv.put(MARKUP_KEY, JSON.stringify(markup));
  markupMemo = { at: Date.now(), value: markup };
}
