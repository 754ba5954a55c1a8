import { mediaUrlExpiry, signMediaUrl } from "../domain/media-url";
import type { Config } from "../env";
import { taskView, type TaskRecord, type TaskView } from "../domain/task-record";
import { outputSource, taskOutputs, WEBHOOK_ARCHIVE_WAIT_MS, webhookReleaseAt } from "../domain/media-archive";
import { placeLinks, type PlacedLink } from "../domain/media-outputs";

/** What signing a link needs: the secret, where the proxy is reachable, how long a link lives. */
export interface LinkSigner {
  secret: string;
  /** PUBLIC_BASE_URL, when set; else the archive's remembered origin is used. */
  publicBaseUrl: string | undefined;
  ttlSeconds: number;
}

/** The signer of the deployment's configuration. */
export function signerFor(config: Config): LinkSigner {
  return { secret: config.signingSecret, publicBaseUrl: config.publicBaseUrl, ttlSeconds: config.videoUrlTtlSeconds };
}

/**
 * The proxy's links to a task's archived files at `now` (signed afresh on every read, the same within an hour):
 * `/media/{taskId}/{i}.{ext}?exp&sig`, or `/videos/{taskId}/{i}.mp4?exp&sig` for an archive made when only videos
 * were archived. None when there is no origin to sign for.
 */
export async function archivedLinks(task: TaskRecord, signer: LinkSigner, now: number): Promise<PlacedLink[]> {
  const base = signer.publicBaseUrl ?? task.archive?.base_url ?? null;
  if (!base || !task.archive) return [];
  const exp = mediaUrlExpiry(now, signer.ttlSeconds);
  const stored = task.archive.files.filter((f) => f.state === "stored");
  return Promise.all(
    stored.map(async (f) => ({
      paths: f.paths,
      source_url: f.source_url,
      link: await signMediaUrl(signer.secret, base, { address: f.address, taskId: task.id, index: f.index, ext: f.ext ?? "bin" }, exp),
    })),
  );
}

/**
 * The task as a reader sees it at `now`: each archived file's URL is the proxy's signed link, in its place, with
 * RunAPI's original beside it (`videos[i].url` + `source_url`, `audios[i].audio_url` + `source_audio_url`, …); the
 * rest keep RunAPI's URLs. Webhooks and live events carry the same view.
 */
export async function publicTaskView(task: TaskRecord, backend: boolean, config: Config, now: number): Promise<TaskView> {
  const view = taskView(task, { backend });
  const links = await archivedLinks(task, signerFor(config), now);
  if (links.length) placeLinks(view, outputSource(task), links);
  return view;
}

/**
 * A completed task whose files are still being copied into R2 (when the deployment archives), within the bounded
 * wait (SPEC §11). A task with no archive yet waits only while it could still start one: a task completed before
 * its outputs were archived at all is never waited for.
 */
export function awaitingArchive(archiving: boolean, task: TaskRecord, now: number): boolean {
  if (!archiving || task.status !== "completed") return false;
  if (task.archive) return webhookReleaseAt(task.archive) > now;
  return taskOutputs(task).length > 0 && now < task.updated_at + WEBHOOK_ARCHIVE_WAIT_MS;
}
