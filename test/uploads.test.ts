import { describe, expect, it } from "vitest";
import { tinyPng } from "../sim/media-fixtures";
import { expectError, json, newKey, nonce, proxy, sim, simRequests, tenantWithKey, UPSTREAM_KEY } from "./helpers";
import { b64, download, type FileObject, type Prepared, type UploadObject, uploadClient } from "./upload-client";

// RunAPI's upload endpoints through the proxy, end to end against the simulator, with RunAPI's SDK shapes
// (runapi-ai/core-sdk files.ts, uploads.ts): the tenant's key in, the upstream key out.

type Recorded = { method: string; path: string; headers: Record<string, string> };

/** What the simulator received on a path (a prefix), oldest first. */
async function simCallsAt(path: string): Promise<Recorded[]> {
  return ((await (await sim(`/__sim/requests?path=${encodeURIComponent(path)}`)).json()) as { requests: Recorded[] }).requests;
}

/** Each call RunAPI received carried the upstream key and nothing of the tenant's credential. */
function expectUpstreamKeyOnly(calls: Recorded[], tenantKey: string, count: number) {
  expect(calls).toHaveLength(count);
  for (const call of calls) {
    expect(call.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.stringify(call.headers)).not.toContain(tenantKey);
  }
}

describe("POST /api/v1/files", () => {
  it("stores a base64 file with the upstream key; the file is served back at RunAPI's url", async () => {
    const { key } = await tenantWithKey();
    const png = tinyPng();
    const name = `${nonce()}.png`;
    const res = await uploadClient(key).createFile({ file_name: name, source: { type: "base64", data: b64(png) } });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Charged-Usd")).toBe("0.000000");
    const file = (await res.json()) as FileObject;
    expect(file).toMatchObject({ file_name: name, size_bytes: png.length, mime_type: "image/png" });
    expect(await download(file.url)).toEqual(png);
    expectUpstreamKeyOnly(await simRequests(name), key, 1);
  });

  it("passes a URL source on for RunAPI to fetch", async () => {
    const { key } = await tenantWithKey();
    const name = `${nonce()}.mp3`;
    const res = await uploadClient(key).createFile({ file_name: name, source: { type: "url", url: "https://img.test/song.mp3" } });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ file_name: name, mime_type: "audio/mpeg" });
    expectUpstreamKeyOnly(await simRequests(name), key, 1);
  });

  it("relays RunAPI's refusal of a bad source as a 400 in the proxy's error format", async () => {
    const { key } = await tenantWithKey();
    const name = nonce();
    const error = await expectError(await uploadClient(key).createFile({ file_name: name, source: { type: "ftp", url: "x" } }), 400, "invalid_request");
    expect(error.message).toContain("RunAPI");
    expect(await simRequests(name)).toHaveLength(1);
  });
});

describe("direct upload: prepare → PUT upload_url → confirm", () => {
  it("hands over RunAPI's upload_url as is; the bytes go to storage, never through the proxy; confirm makes the file", async () => {
    const { key } = await tenantWithKey();
    const client = uploadClient(key);
    const png = tinyPng();
    const name = `${nonce()}.png`;
    const prepared = (await json(await client.prepare(png, name, "image/png"))) as Prepared;
    expect(prepared.upload_url).toBe(`https://runapi.test/storage/${prepared.signed_id}`);
    expect(prepared.headers["Content-Type"]).toBe("image/png");

    expect((await client.putBytes(prepared, png)).status).toBe(204);
    const confirmed = await client.confirm(prepared.signed_id);
    expect(confirmed.status).toBe(200);
    const file = (await confirmed.json()) as FileObject;
    expect(file).toMatchObject({ file_name: name, size_bytes: png.length, mime_type: "image/png" });
    expect(await download(file.url)).toEqual(png);

    expectUpstreamKeyOnly(await simRequests(name), key, 1); // prepare
    expectUpstreamKeyOnly(await simRequests(prepared.signed_id), key, 1); // confirm
  });

  it("relays RunAPI's 409 when the bytes were never PUT", async () => {
    const { key } = await tenantWithKey();
    const client = uploadClient(key);
    const prepared = (await json(await client.prepare(tinyPng(), `${nonce()}.png`, "image/png"))) as Prepared;
    await expectError(await client.confirm(prepared.signed_id), 409, "conflict");
  });
});

describe("multipart uploads: /v1/uploads → parts → complete", () => {
  it("assembles the parts in the order given, with the upstream key on every call", async () => {
    const { key } = await tenantWithKey();
    const client = uploadClient(key);
    const bytes = crypto.getRandomValues(new Uint8Array(3000));
    const name = `${nonce()}.bin`;
    const created = await client.createUpload({ bytes: bytes.length, filename: name, mime_type: "application/octet-stream" });
    expect(created.status).toBe(200);
    const upload = (await created.json()) as UploadObject;
    expect(upload).toMatchObject({ object: "upload", bytes: 3000, filename: name, status: "pending" });

    const first = (await json(await client.addPart(upload.id, new Blob([bytes.subarray(0, 1000)])))) as { id: string; object: string };
    const second = (await json(await client.addPart(upload.id, new Blob([bytes.subarray(1000)])))) as { id: string; object: string };
    expect(first.object).toBe("upload.part");
    const done = await client.complete(upload.id, [first.id, second.id]);
    expect(done.status).toBe(200);
    expect(done.headers.get("X-Charged-Usd")).toBe("0.000000");
    const completed = (await done.json()) as UploadObject;
    expect(completed).toMatchObject({ id: upload.id, status: "completed", file: { bytes: 3000 } });
    expect(await download(completed.file!.url)).toEqual(bytes);

    expectUpstreamKeyOnly(await simCallsAt(`/v1/uploads/${upload.id}`), key, 3); // two parts, complete
    expectUpstreamKeyOnly(await simRequests(name), key, 1); // create
    const parts = await simCallsAt(`/v1/uploads/${upload.id}/parts`);
    expect(parts[0]!.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
  });

  it("cancels an open upload; RunAPI's 409 for a part after that carries OpenAI's type", async () => {
    const { key } = await tenantWithKey();
    const client = uploadClient(key);
    const upload = (await json(await client.createUpload({ bytes: 10, filename: `${nonce()}.txt`, mime_type: "text/plain" }))) as UploadObject;
    const cancelled = await client.cancel(upload.id);
    expect(cancelled.status).toBe(200);
    expect(await json(cancelled)).toMatchObject({ id: upload.id, status: "cancelled" });
    const error = await expectError(await client.addPart(upload.id, new Blob(["0123456789"])), 409, "conflict");
    expect((error as { type?: string }).type).toBe("conflict_error");
  });
});

describe("who may call", () => {
  it("answers 401 without a key or with a bad one, on every upload route, and sends RunAPI nothing", async () => {
    const marker = nonce();
    const id = `upload_${marker}`;
    const calls: [string, () => string | FormData][] = [
      ["/api/v1/files", () => JSON.stringify({ file_name: marker, source: { type: "base64", data: "aGk=" } })],
      ["/api/v1/files/prepare", () => JSON.stringify({ filename: marker, byte_size: 3 })],
      ["/api/v1/files/confirm", () => JSON.stringify({ signed_id: marker })],
      ["/v1/uploads", () => JSON.stringify({ bytes: 3, filename: marker, mime_type: "text/plain" })],
      [`/v1/uploads/${id}/parts`, () => new FormData()],
      [`/v1/uploads/${id}/complete`, () => JSON.stringify({ part_ids: [marker] })],
      [`/v1/uploads/${id}/cancel`, () => "{}"],
    ];
    for (const [path, body] of calls) {
      const type: Record<string, string> = typeof body() === "string" ? { "content-type": "application/json" } : {};
      const error = await expectError(await proxy(path, { method: "POST", headers: type, body: body() }), 401, "unauthorized");
      if (path.startsWith("/v1/")) expect((error as { type?: string }).type).toBe("authentication_error");
      const badKey = { ...type, authorization: "Bearer sk_notarealkeynotarealkey0000" };
      await expectError(await proxy(path, { method: "POST", headers: badKey, body: body() }), 401, "unauthorized");
    }
    expect(await simRequests(marker)).toEqual([]);
    expect(await simCallsAt(`/v1/uploads/${id}`)).toEqual([]);
  });

  it("lets a publishable key upload from its allowed origin (a demo's first frame), and no other origin", async () => {
    const { tenantId } = await tenantWithKey();
    const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://app.example"] });
    const browser = uploadClient(pk.key, { origin: "https://app.example", "cf-connecting-ip": "203.0.113.9" });
    const png = tinyPng();
    const prepared = (await json(await browser.prepare(png, `${nonce()}.png`, "image/png"))) as Prepared;
    expect((await browser.putBytes(prepared, png)).status).toBe(204);
    expect((await browser.confirm(prepared.signed_id)).status).toBe(200);
    const elsewhere = uploadClient(pk.key, { origin: "https://evil.example" });
    await expectError(await elsewhere.prepare(png, `${nonce()}.png`, "image/png"), 403, "forbidden");
  });
});
