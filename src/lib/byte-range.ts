/** A resolved byte range of a resource of known size: `offset` … `offset + length - 1`. */
export interface ByteRange {
  offset: number;
  length: number;
}

/**
 * Reads a `Range` header against a resource of `size` bytes (RFC 9110 §14): null when there is none
 * or it is not a single `bytes=` range we serve (the whole resource is sent then), "unsatisfiable"
 * when it lies wholly past the end, else the range clipped to the resource.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | null {
  if (!header) return null;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null; // a multi-range or malformed header is ignored, as the RFC allows
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    const length = Math.min(suffix, size);
    return { offset: size - length, length };
  }
  const first = Number(m[1]);
  if (first >= size) return "unsatisfiable";
  const last = m[2] === "" ? size - 1 : Number(m[2]);
  if (last < first) return null;
  return { offset: first, length: Math.min(last, size - 1) - first + 1 };
}
