import { archiveRetention } from "./archive/scheduled";
import { loadConfig, type Bindings } from "./env";
import { log } from "./lib/log";
import { syncSchedule } from "./lib/price-sync";
import { RunApiClient } from "./upstream/runapi";

/** The daily archive sweep's cron; every other trigger syncs the price schedule (wrangler.toml `[triggers]`). */
export const RETENTION_CRON = "23 4 * * *";

/** The cron triggers: RunAPI's price schedule into KV (SPEC §12), and once a day the archive's retention sweep. */
export async function scheduled(controller: Pick<ScheduledController, "scheduledTime" | "cron">, env: Bindings): Promise<void> {
  const sync = syncSchedule(env.TENANTS, new RunApiClient(loadConfig(env), env.RUNAPI)).then(
    (r) => log.info("price_schedule_sync", { changed: r.changed, prices: r.prices }),
    (err: unknown) => log.warn("price_schedule_sync_failed", { error: err instanceof Error ? err.message.slice(0, 200) : "unknown" }),
  );
  await Promise.all([sync, controller.cron === RETENTION_CRON ? archiveRetention(controller, env) : undefined]);
}
