import { describe, expect, it } from "vitest";
import { tinyPng } from "../sim/media-fixtures";
import { expectError, json, newKey, nonce, sim, tenantWithKey } from "./helpers";
import { type Prepared, type UploadObject, uploadClient } from "./upload-client";

// An upload belongs to the caller that opened it: another tenant (or another visitor of a publishable key) cannot
// confirm, add to, complete or cancel it. Such a call is a 404, as for an id that does not exist, and RunAPI never
// hears of it.

/** What the simulator received on a path (a prefix). */
async function simCallsAt(path: string): Promise<unknown[]> {
  return ((await (await sim(`/__sim/requests?path=${encodeURIComponent(path)}`)).json()) as { requests: unknown[] }).requests;
}

/** How many confirms RunAPI received for a signed id. */
async function confirmsOf(signedId: string): Promise<number> {
  const { requests } = (await (await sim(`/__sim/requests?path=/api/v1/files/confirm&contains=${encodeURIComponent(signedId)}`)).json()) as {
    requests: unknown[];
  };
  return requests.length;
}

describe("direct uploads", () => {
  it("lets no other tenant confirm a signed id; its owner still can", async () => {
    const owner = uploadClient((await tenantWithKey()).key);
    const stranger = uploadClient((await tenantWithKey()).key);
    const png = tinyPng();
    const prepared = (await json(await owner.prepare(png, `${nonce()}.png`, "image/png"))) as Prepared;
    expect((await owner.putBytes(prepared, png)).status).toBe(204);

    await expectError(await stranger.confirm(prepared.signed_id), 404, "not_found");
    expect(await confirmsOf(prepared.signed_id)).toBe(0);
    expect((await owner.confirm(prepared.signed_id)).status).toBe(200);
    expect(await confirmsOf(prepared.signed_id)).toBe(1);
  });

  it("answers 404 for a signed id nobody opened, without asking RunAPI", async () => {
    const { key } = await tenantWithKey();
    const made = nonce();
    await expectError(await uploadClient(key).confirm(made), 404, "not_found");
    expect(await confirmsOf(made)).toBe(0);
  });
});

describe("multipart uploads", () => {
  it("lets no other tenant add a part to, complete or cancel an upload; its owner still can", async () => {
    const owner = uploadClient((await tenantWithKey()).key);
    const stranger = uploadClient((await tenantWithKey()).key);
    const upload = (await json(await owner.createUpload({ bytes: 4, filename: `${nonce()}.txt`, mime_type: "text/plain" }))) as UploadObject;

    for (const res of [
      await stranger.addPart(upload.id, new Blob(["abcd"])),
      await stranger.complete(upload.id, ["part_x"]),
      await stranger.cancel(upload.id),
    ]) {
      const error = await expectError(res, 404, "not_found");
      expect((error as { type?: string }).type).toBe("not_found_error");
    }
    expect(await simCallsAt(`/v1/uploads/${upload.id}/`)).toEqual([]);

    const part = (await json(await owner.addPart(upload.id, new Blob(["abcd"])))) as { id: string };
    expect((await owner.complete(upload.id, [part.id])).status).toBe(200);
  });

  it("keeps one visitor of a publishable key out of another's upload; the tenant's secret key may finish it", async () => {
    const { tenantId, key } = await tenantWithKey();
    const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://app.example"] });
    const visitor = (ip: string) => uploadClient(pk.key, { origin: "https://app.example", "cf-connecting-ip": ip });
    const upload = (await json(await visitor("198.51.100.1").createUpload({ bytes: 2, filename: `${nonce()}.txt`, mime_type: "text/plain" }))) as UploadObject;

    await expectError(await visitor("198.51.100.2").cancel(upload.id), 404, "not_found");
    expect(await simCallsAt(`/v1/uploads/${upload.id}/`)).toEqual([]);
    const cancelled = await uploadClient(key).cancel(upload.id);
    expect(cancelled.status).toBe(200);
    expect(await json(cancelled)).toMatchObject({ id: upload.id, status: "cancelled" });
  });
});
