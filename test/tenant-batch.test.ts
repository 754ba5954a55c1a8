import { describe, expect, it } from "vitest";
import { TenantBatch } from "../src/durable-objects/tenant-batch";

/** A promise the test opens when it chooses. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open: () => open() };
}

/** A send that records each call's items and answers once the test releases it. */
function recorder<T>() {
  const calls: T[][] = [];
  let g = gate();
  const send = async (items: T[]) => {
    calls.push(items);
    await g.opened;
    return items.map((i) => `ok:${String(i)}`);
  };
  return {
    calls,
    send,
    release() {
      g.open();
      g = gate();
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

describe("TenantBatch: one call to a tenant's object for many requests", () => {
  it("a lone request's call goes at once; those arriving meanwhile go together in the next call", async () => {
    const batch = new TenantBatch<number, string>();
    const r = recorder<number>();
    const first = batch.call("t1", 1, r.send);
    await tick();
    expect(r.calls).toEqual([[1]]);
    const rest = [2, 3, 4, 5].map((i) => batch.call("t1", i, r.send));
    await tick();
    expect(r.calls).toHaveLength(1); // nothing more is sent while a call is in flight
    r.release();
    expect(await first).toBe("ok:1");
    await until(() => r.calls.length === 2);
    expect(r.calls).toEqual([[1], [2, 3, 4, 5]]);
    r.release();
    expect(await Promise.all(rest)).toEqual(["ok:2", "ok:3", "ok:4", "ok:5"]);
  });

  it("tenants do not wait for each other", async () => {
    const batch = new TenantBatch<string, string>();
    const r = recorder<string>();
    const a = batch.call("a", "x", r.send);
    const b = batch.call("b", "y", r.send);
    await tick();
    expect(r.calls).toEqual([["x"], ["y"]]);
    r.release();
    expect(await Promise.all([a, b])).toEqual(["ok:x", "ok:y"]);
  });

  it("a failed call fails every request it carried, and the next requests still get their own call", async () => {
    const batch = new TenantBatch<number, string>();
    const calls: number[][] = [];
    const g = gate();
    const send = async (items: number[]) => {
      calls.push(items);
      await g.opened;
      if (items.includes(1)) throw new Error("object unavailable");
      return items.map(String);
    };
    const first = batch.call("t", 1, send);
    const waiting = [2, 3].map((i) => batch.call("t", i, send));
    g.open();
    await expect(first).rejects.toThrow("object unavailable");
    // 2 and 3 were waiting: they go in the next call, which succeeds.
    expect(await Promise.all(waiting)).toEqual(["2", "3"]);
    expect(calls).toEqual([[1], [2, 3]]);
    expect(await batch.call("t", 4, send)).toBe("4");
  });

  it("a waiter whose turn never comes (the caller making the call was lost) makes its own call after staleMs", async () => {
    const batch = new TenantBatch<number, string>(50);
    const calls: number[][] = [];
    const never = new Promise<string[]>(() => {});
    void batch.call("t", 1, (items) => {
      calls.push(items);
      return never;
    });
    const second = batch.call("t", 2, async (items) => {
      calls.push(items);
      return items.map(String);
    });
    expect(await second).toBe("2");
    expect(calls).toEqual([[1], [2]]);
  });

  it("a waiter gets a plain copy of its result, not the object the call returned", async () => {
    const batch = new TenantBatch<number, { n: number }>();
    const shared = { n: 1 };
    expect(await batch.call("t", 1, async () => [shared])).not.toBe(shared);
  });
});

describe("TenantBatch.post: records handed over without waiting", () => {
  it("the request making a call goes on sending what arrived meanwhile; the others return at once", async () => {
    const batch = new TenantBatch<number, undefined>();
    const calls: number[][] = [];
    const g = gate();
    const send = async (items: number[]) => {
      calls.push(items);
      if (calls.length === 1) await g.opened;
    };
    const failed = () => {};
    const first = batch.post("t", 1, send, failed);
    await tick();
    await Promise.all([2, 3].map((i) => batch.post("t", i, send, failed))); // return at once: a call is in flight
    expect(calls).toEqual([[1]]);
    g.open();
    await first;
    expect(calls).toEqual([[1], [2, 3]]);
  });

  it("a failed call is reported with its items, and later records still go", async () => {
    const batch = new TenantBatch<number, undefined>();
    const reported: number[][] = [];
    await batch.post(
      "t",
      1,
      async () => {
        throw new Error("object unavailable");
      },
      (_err, items) => reported.push(items),
    );
    expect(reported).toEqual([[1]]);
    const sent: number[][] = [];
    await batch.post(
      "t",
      2,
      async (items) => void sent.push(items),
      () => {},
    );
    expect(sent).toEqual([[2]]);
  });
});

describe("TenantBatch: bounded calls", () => {
  it("a backlog bigger than one call's share goes in the calls after it", async () => {
    const batch = new TenantBatch<number, number>();
    const sizes: number[] = [];
    const g = gate();
    const send = async (items: number[]) => {
      sizes.push(items.length);
      if (sizes.length === 1) await g.opened;
      return items;
    };
    const first = batch.call("t", 0, send);
    const rest = Array.from({ length: 250 }, (_, i) => batch.call("t", i + 1, send));
    g.open();
    expect(await Promise.all([first, ...rest])).toEqual(Array.from({ length: 251 }, (_, i) => i));
    expect(sizes).toEqual([1, 100, 100, 50]);
  });
});
