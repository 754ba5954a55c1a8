import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { BUNDLED_SCHEDULE } from "../src/catalog/schedule.gen";
import type { Bindings } from "../src/env";
import { saveSchedule } from "../src/lib/price-store";
import { admin, eventually, expectError, json, ledgerObject, nonce, simRequests, tenantBudget, tenantWithKey } from "./helpers";
import { b64, type Prepared, type UploadObject, uploadClient } from "./upload-client";

// When RunAPI's schedule prices uploads (a `files`/`upload` entry: here 2¢ a file), each call that makes a file
// (`POST /api/v1/files`, `confirm`, `complete`) holds that price before RunAPI hears of it, is charged it when the
// file is made, and is freed when the upload fails. Opening an upload and adding parts stay free.

beforeAll(async () => {
  // As a sync of RunAPI's schedule would store it (this file's KV is its own).
  await saveSchedule((env as Bindings).TENANTS, {
    as_of: "2026-12-01",
    etag: '"uploads-priced"',
    synced_at: Date.now(),
    price_schedules: [
      ...BUNDLED_SCHEDULE.price_schedules,
      { service: "files", action: "upload", model: null, billing_unit: "file", billing_strategy: "per_task", unit_price_cents: 2 },
    ],
  });
});

const png = () => ({ type: "base64", data: b64(new Uint8Array([137, 80, 78, 71])) });

/** The tenant's ledger entries: type, amount and model. */
async function ledger(tenantId: string) {
  const { entries } = await json(await admin(`/admin/v1/tenants/${tenantId}/ledger`));
  return (entries as { type: string; amount_micros: number; model: string }[]).map(({ type, amount_micros, model }) => ({ type, amount_micros, model }));
}

describe("uploads priced by the schedule", () => {
  it("charges a whole file its price once RunAPI made it", async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await uploadClient(key).createFile({ file_name: `${nonce()}.png`, source: png() });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Estimated-Cost-Usd")).toBe("0.020000");
    expect(res.headers.get("X-Charged-Usd")).toBe("0.020000");
    await eventually(async () => expect(await tenantBudget(key)).toMatchObject({ spent_usd: 0.02, reserved_usd: 0 }));
    expect(await ledger(tenantId)).toEqual([
      { type: "reserve", amount_micros: 20_000, model: "files/upload" },
      { type: "settle", amount_micros: 20_000, model: "files/upload" },
    ]);
    expect((await ledgerObject(tenantId).totalsCheck()).ok).toBe(true);
  });

  it("charges a direct upload at confirm and a multipart upload at complete; opening and parts are free", async () => {
    const { key } = await tenantWithKey();
    const client = uploadClient(key);
    const bytes = new Uint8Array([1, 2, 3]);
    const prepare = await client.prepare(bytes, `${nonce()}.bin`, "application/octet-stream");
    expect(prepare.headers.get("X-Charged-Usd")).toBeNull();
    const prepared = (await prepare.json()) as Prepared;
    expect((await client.putBytes(prepared, bytes)).status).toBe(204);
    expect((await client.confirm(prepared.signed_id)).headers.get("X-Charged-Usd")).toBe("0.020000");

    const opened = await client.createUpload({ bytes: 3, filename: `${nonce()}.bin`, mime_type: "application/octet-stream" });
    expect(opened.headers.get("X-Charged-Usd")).toBeNull();
    const upload = (await opened.json()) as UploadObject;
    const part = await client.addPart(upload.id, new Blob([bytes]));
    expect(part.headers.get("X-Charged-Usd")).toBeNull();
    const done = await client.complete(upload.id, [((await part.json()) as { id: string }).id]);
    expect(done.status).toBe(200);
    expect(done.headers.get("X-Charged-Usd")).toBe("0.020000");
    await eventually(async () => expect(await tenantBudget(key)).toMatchObject({ spent_usd: 0.04, reserved_usd: 0 }));
  });

  it("frees the hold when the upload fails", async () => {
    const { key, tenantId } = await tenantWithKey();
    await expectError(await uploadClient(key).createFile({ file_name: nonce(), source: { type: "ftp", url: "x" } }), 400, "invalid_request");
    expect(await tenantBudget(key)).toMatchObject({ spent_usd: 0, reserved_usd: 0 });
    expect((await ledger(tenantId)).map((e) => e.type)).toEqual(["reserve", "release"]);
    expect((await ledgerObject(tenantId).totalsCheck()).ok).toBe(true);
  });

  it("refuses with 402 when the price does not fit the budget, before RunAPI hears of it", async () => {
    const { key } = await tenantWithKey({ budget: { limit_usd: 0.01, period: "month" } });
    const marker = nonce();
    const error = await expectError(await uploadClient(key).createFile({ file_name: marker, source: png() }), 402, "budget_exceeded");
    expect(error.details).toMatchObject({ scope: "tenant", required_usd: 0.02 });
    expect(await simRequests(marker)).toEqual([]);
  });
});
