import { describe, expect, it } from "vitest";
import { tinyPng } from "../sim/media-fixtures";
import { sim, simApi, UPSTREAM_KEY } from "./helpers";

// RunAPI's upload endpoints as its core SDK calls them (files.ts, uploads.ts), with a 20 MiB limit.

type Json = Record<string, any>;
const MiB = 1024 * 1024;
const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const md5 = async (bytes: Uint8Array) => b64(new Uint8Array(await crypto.subtle.digest("MD5", bytes)));

/** Downloads a file the simulator gave a URL for. */
const fetchFile = (url: string) => sim(new URL(url).pathname);

describe("POST /api/v1/files", () => {
  it("stores base64 bytes and serves them back at the file's url", async () => {
    const png = tinyPng();
    const res = await simApi("/api/v1/files", { body: { source: { type: "base64", data: b64(png) }, file_name: "fox.png" } });
    expect(res.status).toBe(200);
    const file = (await res.json()) as Json;
    expect(file).toMatchObject({ file_name: "fox.png", size_bytes: png.length, mime_type: "image/png" });
    expect(Date.parse(file.expires_at)).toBeGreaterThan(Date.parse(file.created_at));
    const served = await fetchFile(file.url);
    expect(served.headers.get("content-type")).toBe("image/png");
    expect(served.headers.get("content-length")).toBe(String(png.length));
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(png);
  });

  it("takes a data: URL's type, and a URL source (offline: a small stand-in of its type)", async () => {
    const fromData = (await (await simApi("/api/v1/files", { body: { source: { type: "base64", data: "data:text/plain;base64,aGk=" } } })).json()) as Json;
    expect(fromData).toMatchObject({ mime_type: "text/plain", size_bytes: 2 });
    const fromUrl = (await (await simApi("/api/v1/files", { body: { source: { type: "url", url: "https://img.test/song.mp3" } } })).json()) as Json;
    expect(fromUrl).toMatchObject({ file_name: "song.mp3", mime_type: "audio/mpeg" });
    expect((await fetchFile(fromUrl.url)).headers.get("content-type")).toBe("audio/mpeg");
  });

  it("refuses more than 20 MiB with 413, and a source that is neither", async () => {
    const big = "A".repeat(Math.ceil(((20 * MiB + 3) * 4) / 3));
    const res = await simApi("/api/v1/files", { body: { source: { type: "base64", data: big } } });
    expect(res.status).toBe(413);
    expect(((await res.json()) as Json).error.code).toBe("payload_too_large");
    expect((await simApi("/api/v1/files", { body: { source: { type: "ftp", url: "x" } } })).status).toBe(400);
  });

  it("needs the upstream key", async () => {
    expect((await sim("/api/v1/files", { method: "POST", body: "{}" })).status).toBe(401);
  });
});

describe("direct upload: prepare → PUT upload_url → confirm", () => {
  const prepare = async (bytes: Uint8Array, checksum?: string) => {
    const res = await simApi("/api/v1/files/prepare", {
      body: { filename: "frame.png", byte_size: bytes.length, checksum: checksum ?? (await md5(bytes)), content_type: "image/png" },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { signed_id: string; upload_url: string; headers: Record<string, string> };
  };

  it("takes the bytes at upload_url (no API key) and confirms the file", async () => {
    const png = tinyPng();
    const prepared = await prepare(png);
    expect(prepared.headers).toEqual({ "Content-Type": "image/png", "Content-MD5": await md5(png) });
    const early = await simApi("/api/v1/files/confirm", { body: { signed_id: prepared.signed_id } });
    expect(early.status).toBe(409);
    const put = await sim(new URL(prepared.upload_url).pathname, { method: "PUT", headers: prepared.headers, body: png });
    expect(put.status).toBe(204);
    const file = (await (await simApi("/api/v1/files/confirm", { body: { signed_id: prepared.signed_id } })).json()) as Json;
    expect(file).toMatchObject({ file_name: "frame.png", size_bytes: png.length, mime_type: "image/png" });
    expect(new Uint8Array(await (await fetchFile(file.url)).arrayBuffer())).toEqual(png);
  });

  it("refuses bytes that do not match the checksum or the size", async () => {
    const png = tinyPng();
    const wrongSum = await prepare(png, await md5(new Uint8Array([1, 2, 3])));
    expect((await sim(new URL(wrongSum.upload_url).pathname, { method: "PUT", body: png })).status).toBe(400);
    const prepared = await prepare(png);
    expect((await sim(new URL(prepared.upload_url).pathname, { method: "PUT", body: png.subarray(1) })).status).toBe(400);
  });

  it("refuses to prepare more than 20 MiB", async () => {
    const res = await simApi("/api/v1/files/prepare", { body: { filename: "big.mp4", byte_size: 20 * MiB + 1 } });
    expect(res.status).toBe(413);
  });
});

describe("multipart uploads at /v1/uploads", () => {
  const part = (id: string, bytes: Uint8Array) => {
    const form = new FormData();
    form.append("data", new Blob([bytes]), "part.bin");
    return sim(`/v1/uploads/${id}/parts`, { method: "POST", headers: { Authorization: `Bearer ${UPSTREAM_KEY}` }, body: form });
  };
  const open = async (bytes: number) => {
    const res = await simApi("/v1/uploads", { body: { bytes, filename: "clip.png", mime_type: "image/png", purpose: "user_data" } });
    expect(res.status).toBe(200);
    return (await res.json()) as Json;
  };

  it("assembles the parts, in the order given, into a file", async () => {
    const png = tinyPng();
    const upload = await open(png.length);
    expect(upload).toMatchObject({ object: "upload", bytes: png.length, filename: "clip.png", purpose: "user_data", status: "pending" });
    const second = (await (await part(upload.id, png.subarray(100))).json()) as Json;
    const first = (await (await part(upload.id, png.subarray(0, 100))).json()) as Json;
    expect(first).toMatchObject({ object: "upload.part", upload_id: upload.id });
    const done = (await (await simApi(`/v1/uploads/${upload.id}/complete`, { body: { part_ids: [first.id, second.id] } })).json()) as Json;
    expect(done).toMatchObject({ status: "completed", file: { object: "file", bytes: png.length, filename: "clip.png", status: "processed" } });
    expect(new Uint8Array(await (await fetchFile(done.file.url)).arrayBuffer())).toEqual(png);
    expect((await simApi(`/v1/uploads/${upload.id}/cancel`, { body: {} })).status).toBe(409);
  });

  it("refuses parts beyond the announced size, a completion that does not add up, and an upload over 20 MiB", async () => {
    const upload = await open(10);
    expect((await part(upload.id, new Uint8Array(11))).status).toBe(413);
    const p = (await (await part(upload.id, new Uint8Array(4))).json()) as Json;
    expect((await simApi(`/v1/uploads/${upload.id}/complete`, { body: { part_ids: [p.id] } })).status).toBe(400);
    expect((await simApi("/v1/uploads", { body: { bytes: 20 * MiB + 1, filename: "x.bin", mime_type: "application/octet-stream" } })).status).toBe(413);
  });

  it("cancels an open upload", async () => {
    const upload = await open(10);
    const cancelled = (await (await simApi(`/v1/uploads/${upload.id}/cancel`, { body: {} })).json()) as Json;
    expect(cancelled.status).toBe("cancelled");
    expect((await part(upload.id, new Uint8Array(1))).status).toBe(409);
  });
});
