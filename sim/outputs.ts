import type { Modality } from "../src/catalog/catalog";
import type { OutputValue } from "./progress";
import { TINY_MP3_SECONDS } from "./media-fixtures";

/**
 * What a completed task carries, per modality: `videos: [{url}]`, `images: [{url}]`,
 * `audios: [{id, audio_url, duration}]`, and for utility actions a plausible JSON field (lyrics, a seed,
 * MIDI…). Media URLs point at files the simulator serves itself (`/files/{taskId}/{i}.{ext}`; a video's
 * first file also at `/videos/{taskId}.mp4`, its older address).
 */

/** What outputs are made from. */
export interface OutputTask {
  id: string;
  action: string;
  modality: Modality;
  baseUrl: string | null;
  body: Record<string, unknown>;
}

/** A media file kind: its extension and Content-Type. */
export interface FileKind {
  ext: string;
  mime: string;
}

/** The file each media modality produces. */
export const FILE_KINDS: Readonly<Record<"video" | "image" | "audio", FileKind>> = {
  video: { ext: "mp4", mime: "video/mp4" },
  image: { ext: "png", mime: "image/png" },
  audio: { ext: "mp3", mime: "audio/mpeg" },
};

/** Most files one task makes. */
export const MAX_OUTPUTS = 4;

const origin = (task: OutputTask) => task.baseUrl ?? "https://cdn.runapi.test";

/** The media files a task makes (none for utility actions): `output_count` of them (1 to 4), one video. */
export function fileCount(task: OutputTask): number {
  if (task.modality === "utility") return 0;
  if (task.modality === "video") return 1;
  const asked = task.body.output_count ?? task.body.num_images;
  return typeof asked === "number" && Number.isInteger(asked) ? Math.min(Math.max(asked, 1), MAX_OUTPUTS) : 1;
}

/** The file kind of a task's files, or null (utility). */
export function fileKindOf(modality: Modality): FileKind | null {
  return modality === "utility" ? null : FILE_KINDS[modality];
}

/** Where a task's file `i` is served. */
export function fileUrl(task: OutputTask, i: number): string {
  if (task.modality === "video" && i === 0) return `${origin(task)}/videos/${task.id}.mp4`;
  return `${origin(task)}/files/${task.id}/${i}.${fileKindOf(task.modality)?.ext ?? "bin"}`;
}

/** The output fields of a completed task. */
export function outputsOf(task: OutputTask): Record<string, OutputValue> {
  const n = fileCount(task);
  const urls = Array.from({ length: n }, (_, i) => fileUrl(task, i));
  const media: Record<string, OutputValue> =
    task.modality === "video"
      ? { videos: urls.map((url) => ({ url })) }
      : task.modality === "image"
        ? { images: urls.map((url) => ({ url })) }
        : task.modality === "audio"
          ? { audios: urls.map((audio_url, i) => ({ id: `${task.id}-${i}`, audio_url, duration: TINY_MP3_SECONDS })) }
          : {};
  return { ...media, ...extrasOf(task) };
}

const text = (task: OutputTask): string => {
  const t = task.body.prompt ?? task.body.text ?? task.body.lyrics ?? "";
  return typeof t === "string" && t.length > 0 ? t.slice(0, 200) : "a simulated song";
};

/** Action-specific fields: what utility actions answer, and what some media actions add. */
function extrasOf(task: OutputTask): Record<string, OutputValue> {
  switch (task.action) {
    case "generate_lyrics":
    case "blend_lyrics":
      return { lyrics: [{ title: "Simulated Song", text: `[Verse]\n${text(task)}\n[Chorus]\nLa la la` }] };
    case "get_timestamped_lyrics":
      return {
        aligned_words: [
          { word: "La ", start_s: 0, end_s: 0.5, success: true },
          { word: "la", start_s: 0.5, end_s: 1, success: true },
        ],
      };
    case "generate_midi":
      return { midi: { instrument: "piano", notes: [{ pitch: 60, start_s: 0, end_s: 0.5, velocity: 96 }] } };
    case "get_seed":
      return { seed: 1_234_567 };
    case "shorten_prompt":
      return { prompts: [text(task).split(/\s+/).slice(0, 8).join(" ")] };
    case "image_to_prompt":
      return { prompts: ["a simulated scene, soft light, 35 mm"] };
    case "boost_style":
      return { style: `${text(task)}, boosted` };
    case "generate_persona":
      return { persona_id: `persona-${task.id}` };
    case "regenerate_validation_phrase":
      return { validation_phrase: "The quick brown fox sings today" };
    case "human_identification":
    case "subject_detection":
      return { subjects: [{ index: 0, bbox: [0.1, 0.1, 0.9, 0.9], confidence: 0.98 }] };
    case "speech_to_text":
      return { text: "Simulated transcript." };
    case "create_voice":
      return { voice_id: `voice-${task.id}` };
    case "get_voice":
      return { voice: { voice_id: String(task.body.voice_id ?? ""), name: "Simulated voice" } };
    case "list_voices":
      return { voices: [{ voice_id: "voice-sim-1", name: "Simulated voice" }], total: 1 };
    case "check_voice":
      return { valid: true };
    default:
      return task.modality === "utility" ? { result: { action: task.action, text: `Simulated ${task.action.replaceAll("_", " ")}` } } : {};
  }
}
