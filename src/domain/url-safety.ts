/**
 * URLs the proxy itself POSTs to (a request's `callback_url`, a tenant's `webhook_url`) must not
 * point inward (SPEC §5): no credentials, no loopback, private, link-local/metadata, unique-local,
 * CGNAT or "this network" address, no localhost. WHATWG URL parsing already turns decimal, octal
 * and hex IPv4 forms (`2130706433`, `0x7f.1`) into dotted quads, and IPv4-mapped IPv6 into hex words.
 */
export function unsafeTargetReason(url: URL): string | null {
  if (url.username || url.password) return "must not carry credentials";
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return "must not name localhost";
  const v4 = parseIPv4(host);
  if (v4) return privateIPv4(v4) ? "must not name a loopback, private, link-local or reserved address" : null;
  if (host.startsWith("[") && host.endsWith("]")) {
    const words = parseIPv6(host.slice(1, -1));
    if (!words) return "must name a valid host";
    return privateIPv6(words) ? "must not name a loopback, private, link-local or reserved address" : null;
  }
  return null;
}

function parseIPv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

function privateIPv4([a = 0, b = 0]: number[]): boolean {
  return (
    a === 0 || // "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // CGNAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) || // IETF protocol assignments
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a >= 224 // multicast, reserved, broadcast
  );
}

/** Eight 16-bit words, or null. */
function parseIPv6(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const words = (s: string) => (s === "" ? [] : s.split(":"));
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  const all = [...head, ...tail];
  const last = all[all.length - 1];
  const out: number[] = [];
  const push = (list: string[]) => {
    for (const w of list) {
      if (w.includes(".")) {
        const v4 = parseIPv4(w);
        if (!v4) return false;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-f]{1,4}$/.test(w)) out.push(parseInt(w, 16));
      else return false;
    }
    return true;
  };
  if (last?.includes(".") && all.indexOf(last) !== all.length - 1) return null;
  const headWords: number[] = [];
  if (!push(head)) return null;
  headWords.push(...out.splice(0));
  if (!push(tail)) return null;
  const tailWords = out.splice(0);
  const missing = 8 - headWords.length - tailWords.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  return [...headWords, ...new Array(halves.length === 2 ? missing : 0).fill(0), ...tailWords];
}

function privateIPv6(w: number[]): boolean {
  const zeroPrefix = w.slice(0, 5).every((x) => x === 0);
  if (zeroPrefix && w[5] === 0 && w[6] === 0 && (w[7] === 0 || w[7] === 1)) return true; // :: and ::1
  if (zeroPrefix && w[5] === 0xffff) return true; // IPv4-mapped (::ffff:a.b.c.d): never a webhook host
  if ((w[0]! & 0xfe00) === 0xfc00) return true; // fc00::/7 unique-local
  if ((w[0]! & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((w[0]! & 0xff00) === 0xff00) return true; // multicast
  if (w[0] === 0x64 && w[1] === 0xff9b) return true; // NAT64 of any IPv4
  return false;
}
