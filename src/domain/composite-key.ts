/**
 * One stored key made of several parts (a credential, an end user, a client's Idempotency-Key…), encoded
 * as a JSON array so that no two distinct lists of parts give the same key (SPEC §13 "Scopes cannot
 * collide"): a part may hold any character, `|` and `:` included, and `null` differs from `""`.
 */
export function compositeKey(...parts: (string | number | null)[]): string {
  return JSON.stringify(parts);
}
