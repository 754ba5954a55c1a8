import { unsafeTargetReason } from "./url-safety";

/**
 * Rules of RunAPI's upload endpoints as the proxy serves them (SPEC §12): `POST /api/v1/files` (a URL or base64
 * source), the direct upload `prepare` → PUT to storage → `confirm`, and OpenAI-style `/v1/uploads` (create, parts,
 * complete, cancel). Pure: no bindings.
 */

/** What an upload id names: a direct upload's signed id (`/api/v1/files/prepare`) or a multipart upload's id (`/v1/uploads`). */
export type UploadKind = "file" | "upload";

/** Who made an upload (its key and end user), so only they may go on with it. */
export interface UploadOwner {
  kind: UploadKind;
  /** RunAPI's id: the signed id or the upload id. */
  id: string;
  keyId: string;
  endUser: string | null;
}

/** Room a body gets beyond the file it carries: the JSON around base64, a form's boundaries and part headers. */
export const UPLOAD_ENVELOPE_BYTES = 64 * 1024;

/** The longest upload id the proxy looks up (RunAPI's signed ids are long; anything longer is no id of its). */
export const MAX_UPLOAD_ID_LENGTH = 1024;

/** How long the proxy remembers who made an upload (RunAPI keeps files 72 h and open uploads 1 h). */
export const UPLOAD_RECORD_TTL_MS = 7 * 86_400_000;

/** The schedule entry that prices making one file (service `files`, action `upload`, no model); absent: uploads are free. */
export const UPLOAD_PRICE_ENTRY = { service: "files", action: "upload", model: null } as const;

/** The largest `POST /api/v1/files` body for files of at most `maxFileBytes`: the file as base64 and its JSON around it. */
export function base64BodyLimit(maxFileBytes: number): number {
  return Math.ceil(maxFileBytes / 3) * 4 + UPLOAD_ENVELOPE_BYTES;
}

/** The largest multipart body of one part (`/v1/uploads/{id}/parts`) for files of at most `maxFileBytes`. */
export function partBodyLimit(maxFileBytes: number): number {
  return maxFileBytes + UPLOAD_ENVELOPE_BYTES;
}

/** Whether a path segment can be one of RunAPI's upload ids (non-empty, bounded, printable, no spaces). */
export function isUploadId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_UPLOAD_ID_LENGTH && /^[\x21-\x7e]+$/.test(id);
}

/**
 * Why an `upload_url` RunAPI handed over must not reach the client, or null when it may. The client PUTs its bytes
 * there itself (as RunAPI's SDK does), so the URL is checked like any URL from upstream: RunAPI's own origin is
 * trusted; elsewhere it must be `https:` (or `http:` where allowed) and name no inward host (unless allowed).
 */
export function handedUrlProblem(raw: unknown, upstreamOrigin: string, opts: { allowHttp: boolean; allowPrivate: boolean }): string | null {
  if (typeof raw !== "string" || raw.length > 8192) return "is not a URL";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not a URL";
  }
  if (url.origin === upstreamOrigin && !url.username && !url.password) return null;
  if (url.protocol !== "https:" && !(opts.allowHttp && url.protocol === "http:")) return "must be an https: URL";
  return opts.allowPrivate ? null : unsafeTargetReason(url);
}
