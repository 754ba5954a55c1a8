/**
 * A finished task's output files, found generically in what RunAPI answered (SPEC §12): URL strings at keys named
 * `url` or ending in `_url` (`videos[i].url`, `images[i].url`, `audios[i].audio_url`, `video_url`, `track.audio_url`,
 * `separated_audios.vocal_url`…) and in lists at keys ending in `_urls`. And how a view shows the archived copies:
 * the proxy's link in place, RunAPI's original beside it.
 */

/** Where a URL sits in a task's result: keys and list positions from the top (`["audios", 0, "audio_url"]`). */
export type OutputPath = (string | number)[];

/** One output file: its URL, and every place the result names it (RunAPI may repeat a URL). */
export interface OutputRef {
  url: string;
  paths: OutputPath[];
}

/** The most files archived per task (a result naming more keeps RunAPI's links for the rest). */
export const MAX_ARCHIVED_OUTPUTS = 20;
/** Nesting followed into a result; outputs sit two or three levels down. */
const MAX_DEPTH = 6;

/** What a key holds: one output URL, a list of them, or neither. Progressive `stream_*` URLs and the proxy's own `source_*` are not outputs. */
function urlKey(key: string): "one" | "many" | null {
  if (key.startsWith("stream_") || key.startsWith("source_")) return null;
  if (key === "url" || key.endsWith("_url")) return "one";
  if (key === "urls" || key.endsWith("_urls")) return "many";
  return null;
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== "string" || value.length > 4096 || !/^https?:\/\//i.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The output files of a result, numbered in the order they appear (keys in RunAPI's order, lists in theirs), so
 * that a result holding only `videos` numbers them as the archive always did. At most `MAX_ARCHIVED_OUTPUTS`.
 */
export function findOutputs(result: Record<string, unknown> | null | undefined): OutputRef[] {
  const found = new Map<string, OutputRef>();
  const add = (url: string, path: OutputPath) => {
    const seen = found.get(url);
    if (seen) seen.paths.push(path);
    else if (found.size < MAX_ARCHIVED_OUTPUTS) found.set(url, { url, paths: [path] });
  };
  const addList = (list: unknown[], path: OutputPath) => {
    for (const [i, v] of list.entries()) if (isHttpUrl(v)) add(v, [...path, i]);
  };
  const walk = (node: unknown, path: OutputPath, depth: number): void => {
    if (depth > MAX_DEPTH || !node || typeof node !== "object") return;
    const entries: [string | number, unknown][] = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
    for (const [key, value] of entries) {
      const kind = typeof key === "string" ? urlKey(key) : null;
      if (kind === "one" && isHttpUrl(value)) add(value, [...path, key]);
      else if (kind === "many" && Array.isArray(value)) addList(value, [...path, key]);
      else walk(value, [...path, key], depth + 1);
    }
  };
  walk(result, [], 0);
  return [...found.values()];
}

/** An archived output as a view shows it: the proxy's signed link where RunAPI's URL was. */
export interface PlacedLink {
  paths: OutputPath[];
  /** RunAPI's URL, kept beside the link. */
  source_url: string;
  link: string;
}

/** The name RunAPI's original goes under, beside the key that now holds the proxy's link: `url` → `source_url`, `audio_url` → `source_audio_url`. */
export function sourceKey(key: string): string {
  return key === "url" ? "source_url" : `source_${key}`;
}

function at(node: unknown, path: OutputPath): unknown {
  let here = node;
  for (const step of path) {
    if (!here || typeof here !== "object") return undefined;
    here = (here as Record<string | number, unknown>)[step];
  }
  return here;
}

/**
 * Puts each link at its places in `view` (whose top-level values came from `source`; those it changes are copied
 * first, so `source` is never touched) and RunAPI's original beside it: `{url, source_url}` in an object;
 * `audio_url` with `source_audio_url`; a list at `image_urls` with the original list as `source_image_urls`.
 * A place that no longer holds RunAPI's URL is left alone.
 */
export function placeLinks(view: Record<string, unknown>, source: Record<string, unknown>, links: PlacedLink[]): void {
  const copied = new Set<string>();
  for (const { paths, source_url, link } of links) {
    for (const path of paths) {
      const top = path[0];
      if (typeof top !== "string" || path.length < 1 || at(source, path) !== source_url) continue;
      if (!copied.has(top)) {
        view[top] = structuredClone(source[top]);
        copied.add(top);
      }
      const last = path[path.length - 1]!;
      if (typeof last === "string") {
        const parent = (path.length === 1 ? view : at(view, path.slice(0, -1))) as Record<string, unknown>;
        parent[last] = link;
        parent[sourceKey(last)] = source_url;
        continue;
      }
      // An element of a `…_urls` list: the list's owner keeps the original list beside it.
      const listKey = path[path.length - 2] as string;
      const owner = (path.length === 2 ? view : at(view, path.slice(0, -2))) as Record<string, unknown>;
      owner[sourceKey(listKey)] ??= [...(at(source, path.slice(0, -1)) as unknown[])];
      (owner[listKey] as unknown[])[last] = link;
    }
  }
}
