import { loadConfig, type Bindings } from "../env";
import { sweepExpiredFiles } from "./retention";

/** The daily cron (wrangler.toml `[triggers]`): deletes archived files (every modality) past VIDEO_RETENTION_DAYS, as of the trigger's time. */
export async function archiveRetention(controller: Pick<ScheduledController, "scheduledTime">, env: Bindings): Promise<void> {
  if (!env.VIDEOS) return;
  const result = await sweepExpiredFiles(env.VIDEOS, { now: controller.scheduledTime, retentionMs: loadConfig(env).videoRetentionMs });
  console.log(JSON.stringify({ level: "info", event: "archive_retention_sweep", ...result }));
}
