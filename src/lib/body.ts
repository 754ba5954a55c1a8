import type { Context } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "./errors";

/**
 * Reads a JSON request body with the deployment's size limit: wrong content type → 415,
 * over the limit → 413 (checked on Content-Length and while streaming), empty or malformed → 400.
 */
export async function readJsonBody(c: Context<AppEnv>): Promise<unknown> {
  return (await readJsonText(c, c.var.config.maxBodyBytes)).json;
}

/** Like `readJsonBody` with its own limit, also giving the body's text and size in bytes (for forwarding it as sent). */
export async function readJsonText(c: Context<AppEnv>, max: number): Promise<{ json: unknown; text: string; bytes: number }> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/(.+\+)?json\b/i.test(type.trim())) {
    throw new AppError("unsupported_media_type", "Content-Type must be application/json", { content_type: type || null });
  }
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > max) throw tooLarge(max);
  const body = c.req.raw.body;
  if (!body) throw new AppError("invalid_request", "Request body is empty");
  // A declared length within the limit bounds the body (the runtime delivers no more than it): read it in one call.
  const bytes = declared > 0 ? new Uint8Array(await c.req.raw.arrayBuffer()) : await readCapped(body, max);
  if (bytes.byteLength > max) throw tooLarge(max);
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") throw new AppError("invalid_request", "Request body is empty");
  try {
    return { json: JSON.parse(text) as unknown, text, bytes: bytes.byteLength };
  } catch {
    throw new AppError("invalid_request", "Request body is not valid JSON");
  }
}

/** A body of undeclared length, read while counting: over `max` bytes → 413. */
async function readCapped(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * A request body to forward, at most `max` bytes, never read whole when its length is declared: a declared
 * Content-Length over `max` is a 413 before a byte is read; within it the request's own stream goes on as it
 * arrives, length and all (the runtime delivers no more than declared). A body of undeclared length is read
 * first, up to `max` (413 beyond), so that nothing of an oversized body reaches the upstream. Null: no body.
 */
export async function forwardableBody(c: Context<AppEnv>, max: number): Promise<ReadableStream<Uint8Array> | Uint8Array | null> {
  const declared = c.req.header("content-length")?.trim();
  if (declared !== undefined && Number(declared) > max) throw tooLarge(max);
  const body = c.req.raw.body;
  if (!body) return null;
  return declared !== undefined && /^\d+$/.test(declared) ? body : readCapped(body, max);
}

function tooLarge(max: number): AppError {
  return new AppError("payload_too_large", `Request body is larger than ${max} bytes`, { max_bytes: max });
}
