/** The media types the archive stores and serves, and how a file's type and extension are told (SPEC §12). */

/** What a stored file is: its extension in the proxy's link and the Content-Type it is served with. */
export interface MediaType {
  ext: string;
  contentType: string;
}

/** Served for anything not known to be plain media: never rendered by a browser on the proxy's origin. */
export const OPAQUE: MediaType = { ext: "bin", contentType: "application/octet-stream" };

/**
 * Content-Types the proxy serves as they are, by extension. Only media a browser plays or shows without running
 * anything: no HTML, no SVG (it can carry script), so a file RunAPI hands over can never act as a page of the proxy.
 */
const BY_EXT: Readonly<Record<string, string>> = {
  mp4: "video/mp4",
  webm: "video/webm",
  mov: "video/quicktime",
  m4v: "video/x-m4v",
  png: "image/png",
  jpg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
  avif: "image/avif",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  m4a: "audio/mp4",
  aac: "audio/aac",
  ogg: "audio/ogg",
  flac: "audio/flac",
  mid: "audio/midi",
};

/** Other spellings of the same types and extensions. */
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  "image/jpg": "jpg",
  "audio/mp3": "mp3",
  "audio/x-wav": "wav",
  "audio/wave": "wav",
  "audio/vnd.wave": "wav",
  "audio/x-m4a": "m4a",
  "audio/x-flac": "flac",
  "audio/x-midi": "mid",
  "video/mpeg4": "mp4",
};
const EXT_ALIASES: Readonly<Record<string, string>> = { jpeg: "jpg", midi: "mid", oga: "ogg", opus: "ogg", qt: "mov" };

const EXT_BY_TYPE: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(BY_EXT).map(([ext, type]) => [type, ext])),
  ...TYPE_ALIASES,
};

/** The known type for an extension (`jpeg`, `JPG` and `jpg` alike), or null. */
export function mediaTypeOfExt(ext: string): MediaType | null {
  const lower = ext.toLowerCase();
  const canonical = EXT_ALIASES[lower] ?? lower;
  const type = BY_EXT[canonical];
  return type ? { ext: canonical, contentType: type } : null;
}

/**
 * A downloaded file's type: the response's Content-Type when it is a known media type, else the type its URL's
 * extension names, else opaque bytes (`bin`, `application/octet-stream`). A type the proxy does not serve as is
 * (`text/html`, `image/svg+xml`, …) is never taken from either.
 */
export function mediaTypeOf(contentType: string | null, url: string): MediaType {
  const declared = contentType?.split(";")[0]?.trim().toLowerCase();
  const fromHeader = declared ? EXT_BY_TYPE[declared] : undefined;
  if (fromHeader) return mediaTypeOfExt(fromHeader)!;
  let path = "";
  try {
    path = new URL(url).pathname;
  } catch {
    return OPAQUE;
  }
  const ext = /\.([A-Za-z0-9]{1,5})$/.exec(path)?.[1];
  return (ext && mediaTypeOfExt(ext)) || OPAQUE;
}
