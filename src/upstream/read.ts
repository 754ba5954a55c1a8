// Reading what RunAPI (or whatever answers at RUNAPI_BASE_URL) sends back, with limits (SPEC §13):
// every body is read as a stream, counted as it arrives, and given up on past its limit, so no answer
// can exhaust the isolate's memory or hold it for longer than reading its allowed bytes takes.

/** Why an upstream body could not be read: it was larger than allowed, or it broke off. */
export class UpstreamBodyError extends Error {
  constructor(
    readonly reason: "too_large" | "broken",
    readonly limitBytes: number,
  ) {
    super(reason === "too_large" ? `the answer is larger than ${limitBytes} bytes` : "the answer broke off before it was complete");
    this.name = "UpstreamBodyError";
  }
}

/**
 * Reads a body to its end, at most `maxBytes` (counted while it streams; a declared Content-Length
 * larger than that is refused before reading). Throws `UpstreamBodyError`; a null body is empty.
 */
export async function readBytes(res: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = res.headers.get("content-length");
  if (declared !== null && /^\d{1,15}$/.test(declared) && Number(declared) > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new UpstreamBodyError("too_large", maxBytes);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let read: ReadableStreamReadResult<Uint8Array>;
    try {
      read = await reader.read();
    } catch {
      throw new UpstreamBodyError("broken", maxBytes);
    }
    if (read.done) break;
    size += read.value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new UpstreamBodyError("too_large", maxBytes);
    }
    chunks.push(read.value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** A body as UTF-8 text, at most `maxBytes` (see `readBytes`). */
export async function readText(res: Response, maxBytes: number): Promise<string> {
  return new TextDecoder().decode(await readBytes(res, maxBytes));
}
