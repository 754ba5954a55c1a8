import { describe, expect, it } from "vitest";
import { admin, api, expectError, json, ledgerObject, nonce, tenantBudget, tenantWithKey } from "../helpers";

// SPEC §13: a chat answer is read with limits, and a chat whose answer is lost after it was sent is charged its
// reservation (RunAPI may have done the work) unless RunAPI said it did none. RunAPI here is sim/hostile.

type Entry = { type: string; model: string | null; amount_micros: number; reason: string | null };

const chat = (key: string, content: string, extra: Record<string, unknown> = {}) =>
  api(key, "/v1/chat/completions", { body: { model: "gpt-4o-mini", max_tokens: 1000, messages: [{ role: "user", content }], ...extra } });

/** The chat's reserve entry and how it was closed. */
async function chatEntries(tenantId: string): Promise<{ reserve: Entry; close: Entry }> {
  const entries = ((await json(await admin(`/admin/v1/tenants/${tenantId}/ledger`))).entries as Entry[]).filter((e) => e.model === "gpt-4o-mini");
  expect(entries.map((e) => e.type)).toHaveLength(2);
  return { reserve: entries[0]!, close: entries[1]! };
}

/** Asserts the chat was charged exactly its reservation, nothing left open, the ledger whole. */
async function chargedItsReservation(tenantId: string, key: string) {
  const { reserve, close } = await chatEntries(tenantId);
  expect(close).toMatchObject({ type: "settle", amount_micros: reserve.amount_micros, reason: expect.stringContaining("charged the amount reserved") });
  expect(reserve.amount_micros).toBeGreaterThan(0);
  expect((await tenantBudget(key)).reserved_usd).toBe(0);
  expect((await ledgerObject(tenantId).totalsCheck()).ok).toBe(true);
  return reserve.amount_micros;
}

const usd = (micros: number) => (micros / 1_000_000).toFixed(6);

describe("hostile chat answers", () => {
  it("a plain answer larger than CHAT_MAX_RESPONSE_BYTES is a 502, charged its reservation and said so", { timeout: 60_000 }, async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await chat(key, `${nonce()} [hostile:chat-flood=20]`);
    expect(res.headers.get("X-Charge-Basis")).toBe("reservation");
    const error = await expectError(res, 502, "upstream_error");
    expect(error.message).toContain("larger than 8388608 bytes");
    expect(error).toMatchObject({ type: "server_error" });
    expect(res.headers.get("X-Charged-Usd")).toBe(usd(await chargedItsReservation(tenantId, key)));
  });

  it("a streamed answer whose one event never ends (20 MB, no blank line) stops at 1 MiB with the error event, charged its reservation", {
    timeout: 60_000,
  }, async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await chat(key, `${nonce()} [hostile:sse-flood=20]`, { stream: true });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.length).toBeLessThan(64 * 1024);
    const last = JSON.parse(/data: (.*)\n\n$/.exec(text)![1]!);
    expect(last.error).toMatchObject({ code: "upstream_error", type: "server_error", message: expect.stringContaining("larger than 1048576 bytes") });
    await chargedItsReservation(tenantId, key);
  });

  it("no answer within CHAT_TIMEOUT_MS is an unknown outcome: 504, charged its reservation, never released", async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await chat(key, `${nonce()} [hostile:hang]`);
    expect(res.headers.get("X-Charge-Basis")).toBe("reservation");
    await expectError(res, 504, "upstream_timeout");
    await chargedItsReservation(tenantId, key);
  });

  it("an answer that breaks off mid-body is charged its reservation", async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await chat(key, `${nonce()} [hostile:reset]`);
    expect(res.headers.get("X-Charge-Basis")).toBe("reservation");
    await expectError(res, 502, "upstream_error");
    await chargedItsReservation(tenantId, key);
  });

  it("an answer cut short but ended as if complete (200, half a JSON body) is unreadable: 502, charged its reservation", async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await chat(key, `${nonce()} [hostile:truncated]`);
    expect(res.headers.get("X-Charge-Basis")).toBe("reservation");
    expect((await expectError(res, 502, "upstream_error")).message).toContain("not JSON");
    await chargedItsReservation(tenantId, key);
  });

  it("a 5xx with no body says nothing about the work: charged its reservation", async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await chat(key, `${nonce()} [hostile:500-empty]`);
    expect(res.headers.get("X-Charge-Basis")).toBe("reservation");
    await expectError(res, 502, "upstream_error");
    await chargedItsReservation(tenantId, key);
  });

  it("RunAPI's own error answer (a 5xx with a body) says no work was done: released, no charge basis", async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await chat(key, `${nonce()} [sim:500]`);
    expect(res.headers.get("X-Charge-Basis")).toBeNull();
    await expectError(res, 502, "upstream_error");
    const { close } = await chatEntries(tenantId);
    expect(close.type).toBe("release");
  });

  it("a well-behaved chat through the same upstream is still relayed and settled from usage", async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await chat(key, `hello ${nonce()}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Charge-Basis")).toBeNull();
    expect((await chatEntries(tenantId)).close).toMatchObject({ type: "settle", reason: expect.stringContaining("from upstream usage") });
  });
});
