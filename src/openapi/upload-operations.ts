import { z } from "zod";
import { ConfirmRequest, PrepareRequest, UploadCompleteRequest, UploadCreateRequest } from "../routes/uploads";
import { type Operation, TAGS } from "./operation";

// RunAPI's upload shapes (runapi-ai/core-sdk `files.ts`, `uploads.ts`), as the proxy passes them through.

const isoTime = z.iso.datetime({ offset: true });
const unix = z.number().int().describe("Unix seconds");

/** `POST /api/v1/files`: RunAPI validates it; the proxy streams it on, bounded by UPLOAD_MAX_BYTES (as base64). */
const FileCreate = z.object({
  source: z.discriminatedUnion("type", [
    z.object({ type: z.literal("url"), url: z.url().describe("RunAPI fetches it") }),
    z.object({ type: z.literal("base64"), data: z.string().describe("The file, base64 (or a data: URL)"), mime_type: z.string().optional() }),
  ]),
  file_name: z.string().optional(),
});
const FileObject = z.object({
  file_name: z.string(),
  url: z.url().describe("Where RunAPI serves the file (until expires_at); pass it to a create as an input URL"),
  size_bytes: z.number().int(),
  mime_type: z.string(),
  created_at: isoTime,
  expires_at: isoTime,
});
const Prepared = z.object({
  signed_id: z.string().describe("Confirm the upload with it"),
  upload_url: z.url().describe("RunAPI's storage: PUT the bytes there yourself, with `headers` (not through the proxy)"),
  headers: z.record(z.string(), z.string()),
});
const UploadObject = z
  .object({
    id: z.string(),
    object: z.literal("upload"),
    bytes: z.number().int(),
    created_at: unix,
    filename: z.string(),
    purpose: z.string(),
    status: z.enum(["pending", "completed", "cancelled", "expired"]),
    expires_at: unix,
    file: z
      .object({ id: z.string(), object: z.literal("file"), bytes: z.number().int(), filename: z.string() })
      .loose()
      .optional(),
  })
  .loose();
const UploadPart = z.object({ id: z.string(), object: z.literal("upload.part"), created_at: unix, upload_id: z.string() });
const PartForm = z.object({ data: z.file().describe("The part's bytes (RunAPI's SDK names the field data)") });

const uploadId = { id: "RunAPI's upload id (from POST /v1/uploads)" };
const upload = (op: Omit<Operation, "tag" | "auth">): Operation => ({ ...op, tag: TAGS.uploads, auth: "tenant" });
/** Refusals every upload call can meet: its limits, and RunAPI's own. */
const counted = ["rate_limited", "upstream_error", "upstream_unavailable", "upstream_timeout", "service_unavailable"] as const;
/** A call that makes a file is charged when RunAPI's schedule prices uploads (402 when the price does not fit). */
const charged = [...counted, "budget_exceeded", "pricing_unavailable"] as const;

/** RunAPI's upload endpoints (SPEC §12): `/api/v1/files…` and OpenAI-style `/v1/uploads…`. */
export const UPLOAD_OPERATIONS: Operation[] = [
  upload({
    method: "post",
    path: "/api/v1/files",
    summary: "Upload a whole file from a URL or base64",
    description: "The body is streamed to RunAPI as sent; a file larger than UPLOAD_MAX_BYTES (its base64, with room for the JSON) is a 413.",
    body: FileCreate,
    response: { description: "The stored file", schema: FileObject },
    errors: [...charged],
  }),
  upload({
    method: "post",
    path: "/api/v1/files/prepare",
    summary: "Start a direct upload: RunAPI's storage URL for the bytes",
    description: "PUT the bytes to `upload_url` with `headers` yourself (as RunAPI's SDK does), then confirm with `signed_id`.",
    body: PrepareRequest,
    response: { description: "Where to PUT the bytes", schema: Prepared },
    errors: [...counted],
  }),
  upload({
    method: "post",
    path: "/api/v1/files/confirm",
    summary: "Finish a direct upload",
    body: ConfirmRequest,
    response: { description: "The stored file", schema: FileObject },
    errors: ["not_found", "conflict", ...charged],
  }),
  upload({
    method: "post",
    path: "/v1/uploads",
    summary: "Open a multipart upload (OpenAI's shape)",
    body: UploadCreateRequest,
    response: { description: "The open upload", schema: UploadObject },
    errors: [...counted],
  }),
  upload({
    method: "post",
    path: "/v1/uploads/{id}/parts",
    summary: "Add a part (multipart/form-data, field `data`)",
    description: "The body is streamed to RunAPI as sent; more than UPLOAD_MAX_BYTES (with room for the form) is a 413.",
    params: uploadId,
    body: PartForm,
    bodyContentType: "multipart/form-data",
    response: { description: "The part", schema: UploadPart },
    errors: ["not_found", "conflict", ...counted],
  }),
  upload({
    method: "post",
    path: "/v1/uploads/{id}/complete",
    summary: "Complete an upload from its parts, in order",
    params: uploadId,
    body: UploadCompleteRequest,
    response: { description: "The completed upload with its file", schema: UploadObject },
    errors: ["not_found", "conflict", ...charged],
  }),
  upload({
    method: "post",
    path: "/v1/uploads/{id}/cancel",
    summary: "Cancel an open upload",
    params: uploadId,
    response: { description: "The cancelled upload", schema: UploadObject },
    errors: ["not_found", "conflict", ...counted],
  }),
];
