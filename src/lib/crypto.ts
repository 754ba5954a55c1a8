/** Small Web Crypto helpers: hashing, HMAC, constant-time comparison, random tokens. */
const encoder = new TextEncoder();

/** Two hex digits per byte value, so a hash's hex is 32 lookups (it is made for every request's key). */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

function toHex(buffer: ArrayBuffer): string {
  let hex = "";
  for (const b of new Uint8Array(buffer)) hex += HEX[b];
  return hex;
}

/** base64url without padding. */
export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** SHA-256 of a string, hex encoded (how API keys are stored). */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Imported keys of the server's own string secrets (a handful per isolate): importKey is not free. */
const importedKeys = new Map<string, Promise<CryptoKey>>();
const MAX_IMPORTED_KEYS = 16;

function hmacKey(secret: string | Uint8Array): Promise<CryptoKey> {
  const importRaw = (raw: Uint8Array) => crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  if (typeof secret !== "string") return importRaw(secret);
  let key = importedKeys.get(secret);
  if (!key) {
    if (importedKeys.size >= MAX_IMPORTED_KEYS) importedKeys.clear();
    key = importRaw(encoder.encode(secret));
    importedKeys.set(secret, key);
  }
  return key;
}

/** HMAC-SHA256 of `message` under `secret`, raw bytes. */
export async function hmacSha256(secret: string | Uint8Array, message: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message)));
}

/** Compares two strings in time that depends only on their lengths. */
export function timingSafeEqual(a: string, b: string): boolean {
  const ab = encoder.encode(a);
  const bb = encoder.encode(b);
  // Compare against itself when lengths differ so the work done does not reveal where they differ.
  const other = ab.length === bb.length ? bb : ab;
  return crypto.subtle.timingSafeEqual(ab, other) && ab.length === bb.length;
}

/** A random token `${prefix}${base64url(bytes)}` with `bytes * 8` bits of randomness. */
export function randomToken(prefix: string, bytes = 24): string {
  return prefix + base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * A new random UUID that sorts by the time it was made (version 7, RFC 9562: 48 bits of Unix milliseconds, then 74
 * random bits). Task and hold ids are the primary keys of the tenant object's tables: ids made in time order land
 * beside each other in SQLite's B-trees, so a batch of creates dirties a page or two instead of one per row.
 */
export function timeOrderedUuid(now = Date.now()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = now;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  let hex = "";
  for (let i = 0; i < 16; i++) {
    hex += HEX[bytes[i]!];
    if (i === 3 || i === 5 || i === 7 || i === 9) hex += "-";
  }
  return hex;
}
