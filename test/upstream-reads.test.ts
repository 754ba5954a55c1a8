import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig, type Bindings } from "../src/env";
import { AppError } from "../src/lib/errors";
import { readBytes, UpstreamBodyError } from "../src/upstream/read";
import { RunApiClient } from "../src/upstream/runapi";

// SPEC §13 "Bounded reading": every JSON answer of RunAPI is read with UPSTREAM_MAX_JSON_BYTES (1 MiB by default)
// and never past it. Here RunAPI is a stand-in fetcher that can send any number of bytes and counts what was read.

const MiB = 1024 * 1024;
const config = loadConfig(env as Bindings);

/** An answer of `bytes` bytes (`head`, padding, `tail`), generated as read; `read()` is how much the client took. */
function answer(status: number, bytes: number, opts: { head?: string; tail?: string; declare?: number } = {}) {
  const enc = new TextEncoder();
  const head = enc.encode(opts.head ?? '{"id":"8f1d2b7e-0000-4000-8000-000000000001","status":"pending","padding":"');
  const tail = enc.encode(opts.tail ?? '"}');
  const block = enc.encode("x".repeat(64 * 1024));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent === 0) {
          sent += head.byteLength;
          return controller.enqueue(head);
        }
        const n = Math.min(block.byteLength, bytes - sent - tail.byteLength);
        if (n <= 0) {
          if (sent < bytes) {
            sent += tail.byteLength;
            return controller.enqueue(tail);
          }
          return controller.close();
        }
        sent += n;
        controller.enqueue(block.subarray(0, n));
      },
    },
    { highWaterMark: 0 },
  );
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (opts.declare !== undefined) headers["Content-Length"] = String(opts.declare);
  return { res: new Response(body, { status, headers }), read: () => sent };
}

function clientAnswering(made: { res: Response }) {
  return new RunApiClient(config, { fetch: async () => made.res });
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe("RunAPI's JSON answers are read with a limit", () => {
  it("a status answer over the limit is a 502 upstream_error, and no more than the limit (plus a block) is read", async () => {
    const big = answer(200, 3 * MiB);
    const err = await failure(clientAnswering(big).getTask("/api/v1/hailuo/text_to_video", "8f1d2b7e-0000-4000-8000-000000000001"));
    expect(err).toMatchObject({ code: "upstream_error", status: 502, message: `RunAPI answered with more than ${MiB} bytes` });
    expect(big.read()).toBeLessThanOrEqual(MiB + 64 * 1024 + 100);
  });

  it("a create answer over the limit is refused the same way, even though it carries a task id", async () => {
    const big = answer(200, 3 * MiB);
    const err = await failure(clientAnswering(big).createTask("/api/v1/hailuo/text_to_video", { prompt: "p" }, "idem-1"));
    expect(err.code).toBe("upstream_error");
    expect(big.read()).toBeLessThanOrEqual(MiB + 64 * 1024 + 100);
  });

  it("an answer within the limit is read whole (a 900 KiB status answer is a task)", async () => {
    const ok = answer(200, 900 * 1024, { head: '{"id":"8f1d2b7e-0000-4000-8000-000000000001","status":"processing","note":"' });
    const task = await clientAnswering(ok).getTask("/api/v1/hailuo/text_to_video", "8f1d2b7e-0000-4000-8000-000000000001");
    expect(task).toMatchObject({ status: "processing" });
  });

  it("an error answer over the limit is not read past it: the error keeps its status and says it had no readable body", async () => {
    const big = answer(500, 3 * MiB, { head: '{"error":{"code":"internal","message":"' });
    const err = await failure(clientAnswering(big).priceQuoteCents({ service: "hailuo", action: "text_to_video", model: "m", params: {} }));
    expect(err).toMatchObject({ code: "upstream_error", details: { upstream_status: 500, upstream_body: "none" } });
    expect(big.read()).toBeLessThanOrEqual(MiB + 64 * 1024 + 100);
  });

  it("a declared Content-Length over the limit is refused before a byte is read", async () => {
    const big = answer(200, 5 * MiB, { declare: 5 * MiB });
    await failure(clientAnswering(big).getTask("/api/v1/hailuo/text_to_video", "8f1d2b7e-0000-4000-8000-000000000001"));
    expect(big.read()).toBe(0);
  });
});

describe("readBytes", () => {
  it("tells a body that broke off from one that was too large", async () => {
    const broken = new Response(
      new ReadableStream({
        pull: (c) => c.error(new Error("reset")),
      }),
    );
    await expect(readBytes(broken, 10)).rejects.toMatchObject({ reason: "broken" });
    await expect(readBytes(new Response("x".repeat(11)), 10)).rejects.toBeInstanceOf(UpstreamBodyError);
    expect(new TextDecoder().decode(await readBytes(new Response("x".repeat(10)), 10))).toBe("x".repeat(10));
  });
});
