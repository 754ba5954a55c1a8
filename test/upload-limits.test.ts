import { describe, expect, it } from "vitest";
import { expectError, json, nonce, proxy, sim, simRequests, tenantWithKey } from "./helpers";
import { type UploadObject, uploadClient } from "./upload-client";

// Upload bodies are bounded by UPLOAD_MAX_BYTES (default 20 MiB, RunAPI's own limit): a body that carries more is
// a 413 payload_too_large, and RunAPI receives nothing of it.

const MiB = 1024 * 1024;
const LIMIT = 20 * MiB;
/** What the proxy allows a body beyond its file: the JSON around base64, a form's boundaries. */
const ENVELOPE = 64 * 1024;

/** What the simulator received on a path (a prefix). */
async function simCallsAt(path: string): Promise<unknown[]> {
  return ((await (await sim(`/__sim/requests?path=${encodeURIComponent(path)}`)).json()) as { requests: unknown[] }).requests;
}

/** A stream of `total` bytes that starts with `head`, in 1 MiB chunks, of undeclared length. */
function streamOf(head: string, total: number, fill = 65): ReadableStream<Uint8Array> {
  const first = new TextEncoder().encode(head);
  const chunk = new Uint8Array(MiB).fill(fill);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const next = sent === 0 ? first : chunk.subarray(0, Math.min(MiB, total - sent));
      sent += next.byteLength;
      controller.enqueue(next);
    },
  });
}

describe("POST /api/v1/files", () => {
  const base64Limit = Math.ceil(LIMIT / 3) * 4 + ENVELOPE;

  it("refuses a declared Content-Length over the limit (base64 of 20 MiB, with its JSON) before reading it", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const body = new TextEncoder().encode(`{"file_name":"${marker}","source":{"type":"base64","data":"${"A".repeat(base64Limit)}"}}`);
    const res = await proxy("/api/v1/files", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": String(body.byteLength) },
      body,
    });
    const error = await expectError(res, 413, "payload_too_large");
    expect(error.details).toEqual({ max_bytes: base64Limit });
    expect(await simRequests(marker)).toEqual([]);
  });

  it("reads a body of undeclared length only up to the limit: 413, and RunAPI receives none of it", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const res = await proxy("/api/v1/files", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: streamOf(`{"file_name":"${marker}","source":{"type":"base64","data":"`, base64Limit + MiB),
    });
    await expectError(res, 413, "payload_too_large");
    expect(await simRequests(marker)).toEqual([]);
  });
});

describe("announced sizes", () => {
  it("refuses to prepare a direct upload larger than the limit, and prepares one of exactly the limit", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const body = (byte_size: number) => ({ filename: `${marker}.mp4`, byte_size, checksum: "x", content_type: "video/mp4" });
    await expectError(await apiPost(key, "/api/v1/files/prepare", body(LIMIT + 1)), 413, "payload_too_large");
    expect(await simRequests(marker)).toEqual([]);
    expect((await apiPost(key, "/api/v1/files/prepare", body(LIMIT))).status).toBe(200);
  });

  it("refuses to open a multipart upload larger than the limit", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const res = await uploadClient(key).createUpload({ bytes: LIMIT + 1, filename: marker, mime_type: "video/mp4" });
    const error = await expectError(res, 413, "payload_too_large");
    expect((error as { type?: string }).type).toBe("invalid_request_error");
    expect(await simRequests(marker)).toEqual([]);
  });
});

describe("POST /v1/uploads/{id}/parts", () => {
  it("streams a part of the whole limit through, and refuses a larger one with a 413 that RunAPI never sees", async () => {
    const { key } = await tenantWithKey();
    const client = uploadClient(key);
    const upload = (await json(await client.createUpload({ bytes: LIMIT, filename: `${nonce()}.bin`, mime_type: "application/octet-stream" }))) as UploadObject;

    const tooBig = new Blob([new Uint8Array(LIMIT + ENVELOPE)]);
    await expectError(await client.addPart(upload.id, tooBig), 413, "payload_too_large");
    expect(await simCallsAt(`/v1/uploads/${upload.id}/parts`)).toEqual([]);

    const whole = await client.addPart(upload.id, new Blob([new Uint8Array(LIMIT)]));
    expect(whole.status).toBe(200);
    expect(await simCallsAt(`/v1/uploads/${upload.id}/parts`)).toHaveLength(1);
  });

  it("refuses a body that is not multipart/form-data with a 415", async () => {
    const { key } = await tenantWithKey();
    const upload = (await json(await uploadClient(key).createUpload({ bytes: 3, filename: `${nonce()}.bin`, mime_type: "text/plain" }))) as UploadObject;
    const res = await proxy(`/v1/uploads/${upload.id}/parts`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/octet-stream" },
      body: "abc",
    });
    await expectError(res, 415, "unsupported_media_type");
    expect(await simCallsAt(`/v1/uploads/${upload.id}/parts`)).toEqual([]);
  });
});

/** A JSON POST with a tenant key. */
function apiPost(key: string, path: string, body: unknown): Promise<Response> {
  return proxy(path, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
}
