import { Hono, type Context } from "hono";
import { z } from "zod";
import { readJson, SimError, simState, type SimApp } from "./env";
import { MAX_UPLOAD_BYTES, type FileRecord, type Refusal, type UploadRecord } from "./file-store";
import { tinyMp3, tinyPng } from "./media-fixtures";
import { tinyMp4 } from "./video-fixture";

/**
 * RunAPI's upload endpoints as its core SDK calls them (runapi-ai/core-sdk `files.ts`, `uploads.ts`):
 * `POST /api/v1/files` (a URL or base64 source), the direct upload `prepare` → `PUT upload_url` → `confirm`,
 * and OpenAI-style multipart uploads at `/v1/uploads`. Files are at most 20 MiB (413 beyond) and are served
 * back at their `url`. Offline: a URL source is not fetched; the file is a small stand-in of its type.
 */

const MIME_BY_EXT: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  m4a: "audio/mp4",
  mp4: "video/mp4",
  mov: "video/quicktime",
  webm: "video/webm",
  txt: "text/plain",
  json: "application/json",
  pdf: "application/pdf",
};

const mimeOf = (name: string): string => MIME_BY_EXT[name.split(".").pop()?.toLowerCase() ?? ""] ?? "application/octet-stream";
const tooLarge = (bytes: number) => new SimError(413, "payload_too_large", `Files are limited to ${MAX_UPLOAD_BYTES} bytes (got ${bytes})`);
const fail = (message: string) => new SimError(400, "invalid_request", message);
const unwrap = <T>(result: T | Refusal): Exclude<T, Refusal> => {
  if (typeof result === "object" && result !== null && "refused" in result) {
    const { status, message } = (result as Refusal).refused;
    throw status === 413 ? new SimError(413, "payload_too_large", message) : new SimError(status, status === 404 ? "not_found" : "invalid_request", message);
  }
  return result as Exclude<T, Refusal>;
};

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => Math.floor(ms / 1000);

/** The file as RunAPI's `files` endpoints answer it. */
function fileView(c: Context<SimApp>, f: FileRecord) {
  const url = `${new URL(c.req.url).origin}/uploads/${f.id}/${encodeURIComponent(f.file_name)}`;
  return { file_name: f.file_name, url, size_bytes: f.size_bytes, mime_type: f.mime_type, created_at: iso(f.created_at), expires_at: iso(f.expires_at) };
}

/** An upload as `/v1/uploads` answers it (OpenAI's shape; the file once completed). */
function uploadView(c: Context<SimApp>, u: UploadRecord, file?: FileRecord) {
  const view = {
    id: u.id,
    object: "upload",
    bytes: u.bytes,
    created_at: seconds(u.created_at),
    filename: u.filename,
    purpose: u.purpose,
    status: u.status,
    expires_at: seconds(u.expires_at),
  };
  if (!file) return view;
  const { url, mime_type } = fileView(c, file);
  const fileObject = {
    id: file.id,
    object: "file",
    bytes: file.size_bytes,
    created_at: seconds(file.created_at),
    filename: file.file_name,
    purpose: u.purpose,
    status: "processed",
    expires_at: seconds(file.expires_at),
    url,
    mime_type,
  };
  return { ...view, file: fileObject };
}

/** Decodes base64 (or a `data:` URL), refusing more than the limit before decoding it. */
function decodeBase64(data: string): { bytes: Uint8Array; mime: string | null } {
  const dataUrl = /^data:([^;,]+)?(?:;[^,]*)?,/.exec(data);
  const payload = dataUrl ? data.slice(dataUrl[0].length) : data;
  const estimate = Math.floor((payload.replace(/=+$/, "").length * 3) / 4);
  if (estimate > MAX_UPLOAD_BYTES) throw tooLarge(estimate);
  try {
    return { bytes: Uint8Array.from(atob(payload.replace(/\s+/g, "")), (ch) => ch.charCodeAt(0)), mime: dataUrl?.[1] ?? null };
  } catch {
    throw fail("source.data must be base64");
  }
}

/** A stand-in for a file RunAPI would fetch from a URL (no network here): a small real file of its type. */
function standIn(name: string): Uint8Array {
  const mime = mimeOf(name);
  return mime.startsWith("video/") ? tinyMp4() : mime.startsWith("audio/") ? tinyMp3() : tinyPng();
}

const SourceSchema = z.strictObject({
  source: z.discriminatedUnion("type", [
    z.object({ type: z.literal("url"), url: z.url({ protocol: /^https?$/ }) }),
    z.object({ type: z.literal("base64"), data: z.string().min(1), mime_type: z.string().min(1).optional() }),
  ]),
  file_name: z.string().min(1).max(255).optional(),
});
const PrepareSchema = z.object({
  filename: z.string().min(1).max(255),
  byte_size: z.number().int().nonnegative(),
  checksum: z.string().min(1).optional(),
  content_type: z.string().min(1).optional(),
});
const UploadSchema = z.object({
  bytes: z.number().int().nonnegative(),
  filename: z.string().min(1).max(255),
  mime_type: z.string().min(1),
  purpose: z.literal("user_data").default("user_data"),
});

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw fail(parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
  return parsed.data;
}

/** `/api/v1/files…`: whole files from a URL or base64, and direct uploads. */
export const files = new Hono<SimApp>()
  .post("/", async (c) => {
    const body = parse(SourceSchema, await readJson(c));
    const state = simState(c.env);
    if (body.source.type === "url") {
      const name = body.file_name ?? (decodeURIComponent(new URL(body.source.url).pathname.split("/").pop() ?? "") || "file");
      return c.json(fileView(c, await state.putFile(name, mimeOf(name), standIn(name))));
    }
    const { bytes, mime } = decodeBase64(body.source.data);
    if (bytes.length > MAX_UPLOAD_BYTES) throw tooLarge(bytes.length);
    const name = body.file_name ?? "upload";
    return c.json(fileView(c, await state.putFile(name, body.source.mime_type ?? mime ?? mimeOf(name), bytes)));
  })
  .post("/prepare", async (c) => {
    const body = parse(PrepareSchema, await readJson(c));
    if (body.byte_size > MAX_UPLOAD_BYTES) throw tooLarge(body.byte_size);
    const mime = body.content_type ?? mimeOf(body.filename);
    const file = await simState(c.env).prepareFile(body.filename, mime, body.byte_size, body.checksum ?? null);
    const headers: Record<string, string> = { "Content-Type": mime, ...(body.checksum ? { "Content-MD5": body.checksum } : {}) };
    return c.json({ signed_id: file.id, upload_url: `${new URL(c.req.url).origin}/storage/${file.id}`, headers });
  })
  .post("/confirm", async (c) => {
    const body = parse(z.object({ signed_id: z.string().min(1) }), await readJson(c));
    return c.json(fileView(c, unwrap(await simState(c.env).confirmFile(body.signed_id))));
  });

/** `/v1/uploads…`: OpenAI-style multipart uploads (create, add parts, complete, cancel). */
export const uploads = new Hono<SimApp>()
  .post("/", async (c) => {
    const body = parse(UploadSchema, await readJson(c));
    if (body.bytes > MAX_UPLOAD_BYTES) throw tooLarge(body.bytes);
    return c.json(uploadView(c, await simState(c.env).createUpload(body.filename, body.mime_type, body.bytes, body.purpose)));
  })
  .post("/:id/parts", async (c) => {
    const form = await c.req.formData().catch(() => null);
    // workerd parses file parts as File (its types still say string).
    const data = form?.get("data") as unknown as Blob | string | null | undefined;
    if (!data || typeof data === "string") throw fail("data: a file part named data is required (multipart/form-data)");
    if (data.size > MAX_UPLOAD_BYTES) throw tooLarge(data.size);
    const part = unwrap(await simState(c.env).addUploadPart(c.req.param("id"), new Uint8Array(await data.arrayBuffer())));
    return c.json({ id: part.id, object: "upload.part", created_at: seconds(part.created_at), upload_id: part.upload_id });
  })
  .post("/:id/complete", async (c) => {
    const body = parse(z.object({ part_ids: z.array(z.string().min(1)).min(1) }).loose(), await readJson(c));
    const done = unwrap(await simState(c.env).completeUpload(c.req.param("id"), body.part_ids));
    return c.json(uploadView(c, done.upload, done.file));
  })
  .post("/:id/cancel", async (c) => c.json(uploadView(c, unwrap(await simState(c.env).cancelUpload(c.req.param("id"))))));

/** The storage side (no API key; the signed id is the credential): direct-upload PUTs and downloads of uploaded files. */
export const storage = new Hono<SimApp>()
  .put("/storage/:signedId", async (c) => {
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > MAX_UPLOAD_BYTES) throw tooLarge(declared);
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.length > MAX_UPLOAD_BYTES) throw tooLarge(bytes.length);
    unwrap(await simState(c.env).receiveFile(c.req.param("signedId"), bytes));
    return c.body(null, 204);
  })
  .get("/uploads/:id/:name", async (c) => {
    const found = await simState(c.env).readFile(c.req.param("id"));
    if (!found) throw new SimError(404, "not_found", "No such file (or it has expired)");
    return new Response(found.bytes, { headers: { "Content-Type": found.file.mime_type, "Content-Length": String(found.bytes.length) } });
  });
