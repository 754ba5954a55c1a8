/**
 * Who "one visitor" is for a publishable key: the client IP Cloudflare puts in `CF-Connecting-IP`
 * (set by Cloudflare's edge in production and overwritten if a client sends it; `X-Forwarded-For` and
 * friends are never read). One IPv6 host usually owns a whole /64 and can rotate addresses inside it
 * at will, so IPv6 counts per /64; IPv4 counts per address.
 */

/** The end user of requests whose client IP is missing or unreadable: they all share one budget and limit. */
export const UNKNOWN_CLIENT = "unknown-ip";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-f]{1,4}$/;

/** `CF-Connecting-IP` → the end-user subject: `203.0.113.7`, or `2001:db8:1:2::/64` for any address in that /64. */
export function endUserOfIp(raw: string | null | undefined): string {
  const ip = raw?.trim().toLowerCase() ?? "";
  if (IPV4.test(ip)) return ip;
  const hextets = ipv6Hextets(ip);
  if (!hextets) return UNKNOWN_CLIENT;
  // IPv4-mapped (::ffff:a.b.c.d) is an IPv4 client.
  if (hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff) {
    const [hi, lo] = [hextets[6]!, hextets[7]!];
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${hextets
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted quad read), or null. */
function ipv6Hextets(ip: string): number[] | null {
  if (!ip.includes(":") || ip.length > 64) return null;
  let text = ip.replace(/%.*$/, ""); // a zone id never names a different client
  const quad = text.match(/:(\d+\.\d+\.\d+\.\d+)$/)?.[1];
  if (quad) {
    if (!IPV4.test(quad)) return null;
    const [a, b, c, d] = quad.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, -quad.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const part = (s: string) => (s === "" ? [] : s.split(":"));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => HEXTET.test(g))) return null;
  return groups.map((g) => parseInt(g, 16));
}
