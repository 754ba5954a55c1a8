import { signVideoUrl, videoUrlExpiry } from "../domain/video-url";
import type { Config } from "../env";
import { taskView, type TaskRecord, type TaskView } from "../domain/task-record";
import { webhookReleaseAt, type VideoArchive } from "../domain/video-archive";

/** A video as the task shows it: the proxy's signed link once archived (RunAPI's then in `source_url`), else RunAPI's. */
export interface PublicVideo {
  url: string;
  source_url?: string;
}

/** What signing a link needs: the secret, where the proxy is reachable, how long a link lives. */
export interface VideoSigner {
  secret: string;
  /** PUBLIC_BASE_URL, when set; else the archive's remembered origin is used. */
  publicBaseUrl: string | undefined;
  ttlSeconds: number;
}

/** The signer of the deployment's configuration. */
export function signerFor(config: Config): VideoSigner {
  return { secret: config.signingSecret, publicBaseUrl: config.publicBaseUrl, ttlSeconds: config.videoUrlTtlSeconds };
}

/**
 * The `videos` array a reader of the task sees at `now`: each archived video points at the proxy's
 * `/videos/{taskId}/{i}.mp4?exp&sig` (signed afresh on every read), the rest keep RunAPI's URL.
 * A video with no origin to sign for keeps RunAPI's URL too.
 */
export async function publicVideos(
  taskId: string,
  videos: { url: string }[] | null | undefined,
  archive: VideoArchive | undefined,
  signer: VideoSigner,
  now: number,
): Promise<PublicVideo[] | undefined> {
  if (!videos) return undefined;
  const base = signer.publicBaseUrl ?? archive?.base_url ?? null;
  const exp = videoUrlExpiry(now, signer.ttlSeconds);
  return Promise.all(
    videos.map(async (video, index) => {
      const stored = archive?.videos[index];
      if (!base || stored?.state !== "stored") return { url: video.url };
      return { url: await signVideoUrl(signer.secret, base, taskId, index, exp), source_url: stored.source_url };
    }),
  );
}

/** The task as a reader sees it at `now`: archived videos point at the proxy's links, signed afresh on every read. */
export async function publicTaskView(task: TaskRecord, backend: boolean, config: Config, now: number): Promise<TaskView> {
  const view = taskView(task, { backend });
  const videos = await publicVideos(task.id, task.videos, task.archive, signerFor(config), now);
  if (videos) view.videos = videos;
  return view;
}

/** A completed task whose videos are still being copied into R2 (when the deployment archives), within the bounded wait (SPEC §11). */
export function awaitingArchive(archiving: boolean, task: TaskRecord, now: number): boolean {
  if (!archiving || task.status !== "completed" || !task.videos?.length) return false;
  return task.archive === undefined || webhookReleaseAt(task.archive) > now;
}
