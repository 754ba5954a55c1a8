import { expect } from "vitest";
import { proxy, sim } from "./helpers";

/** What RunAPI's `files` endpoints answer for a stored file. */
export type FileObject = { file_name: string; url: string; size_bytes: number; mime_type: string; created_at: string; expires_at: string };
/** What `prepare` answers: where the client PUTs the bytes itself. */
export type Prepared = { signed_id: string; upload_url: string; headers: Record<string, string> };
/** What `/v1/uploads` answers (OpenAI's upload object). */
export type UploadObject = { id: string; object: "upload"; bytes: number; filename: string; status: string; file?: { id: string; url: string; bytes: number } };

/** The MD5 of some bytes, base64, as the SDK's `md5Base64`. */
export async function md5Base64(bytes: Uint8Array): Promise<string> {
  return btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("MD5", bytes))));
}

/** Base64 of small bytes. */
export const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** Reads a file RunAPI serves at the `url` it gave (on RunAPI's origin, reached through the simulator). */
export async function download(url: string): Promise<Uint8Array> {
  expect(new URL(url).origin).toBe("https://runapi.test");
  return new Uint8Array(await (await sim(new URL(url).pathname)).arrayBuffer());
}

/**
 * RunAPI's core SDK's upload calls (runapi-ai/core-sdk `js/src/files.ts`, `uploads.ts`) made against the proxy with a
 * tenant credential: the same paths, bodies and headers; the direct upload's PUT goes to `upload_url` (RunAPI's
 * storage, not the proxy), as the SDK's `http.upload` does. Each call answers the raw Response.
 */
export function uploadClient(key: string, extraHeaders: Record<string, string> = {}) {
  const post = (path: string, body: unknown) =>
    proxy(path, {
      method: "POST",
      headers: {
        accept: "application/json",
        authorization: `Bearer ${key}`,
        ...(body instanceof FormData ? {} : { "content-type": "application/json" }),
        ...extraHeaders,
      },
      body: body instanceof FormData ? body : JSON.stringify(body),
    });
  const uploadPath = (id: string) => `/v1/uploads/${encodeURIComponent(id)}`;
  return {
    /** `files.create({source, file_name?})`. */
    createFile: (params: { source: Record<string, unknown>; file_name?: string }) => post("/api/v1/files", params),
    /** The SDK's first step of `files.create({file})`. */
    prepare: async (bytes: Uint8Array, filename: string, contentType: string) =>
      post("/api/v1/files/prepare", { filename, byte_size: bytes.byteLength, checksum: await md5Base64(bytes), content_type: contentType }),
    /** The SDK's `http.upload`: PUT the bytes to `upload_url` with the headers issued for it, no API key. */
    putBytes: (prepared: Prepared, bytes: Uint8Array) => {
      expect(new URL(prepared.upload_url).origin).toBe("https://runapi.test");
      return sim(new URL(prepared.upload_url).pathname, { method: "PUT", headers: prepared.headers, body: bytes });
    },
    /** The SDK's last step of `files.create({file})`. */
    confirm: (signedId: string) => post("/api/v1/files/confirm", { signed_id: signedId }),
    /** `uploads.create(params)`. */
    createUpload: (params: { bytes: number; filename: string; mime_type: string }) => post("/v1/uploads", { ...params, purpose: "user_data" }),
    /** `uploads.addPart(uploadId, data, filename)`. */
    addPart: (uploadId: string, data: Blob, filename = "part.bin") => {
      const form = new FormData();
      form.append("data", data, filename);
      return post(`${uploadPath(uploadId)}/parts`, form);
    },
    /** `uploads.complete(uploadId, partIds)`. */
    complete: (uploadId: string, partIds: string[]) => post(`${uploadPath(uploadId)}/complete`, { part_ids: partIds }),
    /** `uploads.cancel(uploadId)`. */
    cancel: (uploadId: string) => post(`${uploadPath(uploadId)}/cancel`, {}),
  };
}
