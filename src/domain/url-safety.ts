/**
 * URLs the proxy itself calls (a request's `callback_url`, a tenant's `webhook_url`, the archive's
 * downloads) must not point inward (SPEC §5, §13): no credentials, no loopback, private,
 * link-local/metadata, unique-local, CGNAT or "this network" address, no localhost, and no IPv6
 * address that embeds an IPv4 one (IPv4-compatible, -mapped, -translated, 6to4, Teredo, NAT64).
 * WHATWG URL parsing already turns decimal, octal and hex IPv4 forms (`2130706433`, `0x7f.1`) into
 * dotted quads, and IPv6's dotted-quad tails (`::127.0.0.1`) into hex words.
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

/**
 * Loopback, local and reserved IPv6, and every form that carries an IPv4 address (which a host, a
 * relay or a translator may deliver to that IPv4 address, private or not): refused whole, whatever
 * IPv4 they embed, since none is a legitimate way to name a public host.
 */
function privateIPv6(w: number[]): boolean {
  const zeros = (n: number) => w.slice(0, n).every((x) => x === 0);
  if (zeros(6)) return true; // ::/96: unspecified, loopback, IPv4-compatible (::a.b.c.d, deprecated)
  if (zeros(5) && w[5] === 0xffff) return true; // ::ffff:0:0/96 IPv4-mapped
  if (zeros(4) && w[4] === 0xffff && w[5] === 0) return true; // ::ffff:0:0:0/96 IPv4-translated (SIIT)
  if (w[0] === 0x64 && w[1] === 0xff9b) return true; // 64:ff9b::/96 NAT64 and 64:ff9b:1::/48 local-use NAT64
  if (w[0] === 0x2002) return true; // 2002::/16 6to4 (IPv4 in bits 16–48)
  if (w[0] === 0x2001 && w[1] === 0) return true; // 2001::/32 Teredo (an obfuscated client IPv4)
  if ((w[0]! & 0xfe00) === 0xfc00) return true; // fc00::/7 unique-local
  if ((w[0]! & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((w[0]! & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local (deprecated)
  if ((w[0]! & 0xff00) === 0xff00) return true; // multicast
  return false;
}

/** Whether `host` is on an allow-list of names, each exact (`cdn.example`) or a suffix (`*.cdn.example`, not the bare name). */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return allowed.some((entry) => (entry.startsWith("*.") ? name.endsWith(entry.slice(1)) : name === entry));
}
