// `npm start`'s view of the worker's logs: the proxy's JSON lines (src/lib/log.ts) as one short line each,
// and workerd's own internal errors (a native stack per failed outbound fetch) condensed to one line, repeated
// ones within a few seconds shown once. A failed DNS lookup is not printed on its own: the proxy logs the
// failed delivery itself (`webhook_undeliverable host=…`), and that line gets the cause appended.

const REPEAT_WINDOW_MS = 5_000;
const COLORS = { reset: "\x1b[0m", dim: "\x1b[2m", red: "\x1b[31m", yellow: "\x1b[33m", green: "\x1b[32m", cyan: "\x1b[36m" };

/** a route pattern with a regex parameter (`/:endpoint{a|b}`) → its bare name (`/:endpoint`). */
function shortRoute(route) {
  return String(route ?? "?").replace(/\{[^}]*\}/g, "");
}

function clock(timestamp) {
  return new Date(timestamp).toISOString().slice(11, 19);
}

function paint(color, text, on) {
  return on ? `${COLORS[color]}${text}${COLORS.reset}` : text;
}

/** One request line: `12:00:01 POST /api/v1/hailuo/text_to_video 200 166 ms tenant=acme est=$0.30 req_bbe448f5`. */
export function formatRequest(entry, timestamp, color = false) {
  const status = Number(entry.status);
  const statusColor = status >= 500 ? "red" : status >= 400 ? "yellow" : "green";
  const parts = [
    paint("dim", clock(timestamp), color),
    String(entry.method).padEnd(6),
    shortRoute(entry.route),
    paint(statusColor, String(status), color),
    `${entry.duration_ms} ms`,
  ];
  if (entry.tenant_id) parts.push(`tenant=${entry.tenant_id}`);
  if (entry.error_code) parts.push(paint(statusColor, entry.error_code, color));
  if (entry.estimate_usd !== undefined) parts.push(`est=$${Number(entry.estimate_usd).toFixed(2)}`);
  if (entry.charged_usd !== undefined) parts.push(`charged=$${Number(entry.charged_usd).toFixed(2)}`);
  if (entry.request_id) parts.push(paint("dim", String(entry.request_id).slice(0, 12), color));
  return parts.join(" ");
}

/** workerd's internal error text → one readable line, or null when it is not one. */
export function condenseRuntimeError(message) {
  if (!/^(?:e = )?(workerd|kj)\/[\w/.-]+\.c\+\+:\d+/.test(message) && !/^stack: \//.test(message)) return null;
  const text = message.split("\nstack:")[0].replace(/; stack: .*$/s, "");
  const dns = text.match(/DNS lookup failed\.; params\.host = ([^;]+);/);
  if (dns) return `outbound fetch failed: ${dns[1].trim()} does not resolve (DNS lookup failed)`;
  const failed = text.match(/failed: ([^;]+)/) ?? text.match(/(disconnected: [^;]+)/);
  return `workerd: ${(failed ? failed[1] : text.replace(/^\S+ /, "")).trim().slice(0, 200)}`;
}

/** The host of workerd's "DNS lookup failed" error line, or null. */
export function dnsFailureHost(message) {
  return message.match(/DNS lookup failed\.; params\.host = ([^;]+);/)?.[1]?.trim() ?? null;
}

/**
 * A `handleStructuredLogs` handler for Miniflare: writes each worker log record as one line.
 * `write(line, level)` receives the formatted text.
 */
export function createLogPrinter(write, { color = false } = {}) {
  let last = { line: "", at: 0 };
  /** Hosts whose DNS lookup just failed (workerd's line), by when. */
  const unresolved = new Map();
  return function printLog({ timestamp, level, message }) {
    for (const raw of String(message).split("\n")) {
      if (!raw.trim() || raw.startsWith("stack: /")) continue;
      let line;
      let lineLevel = level;
      try {
        const entry = JSON.parse(raw);
        if (entry && entry.event === "request") line = formatRequest(entry, timestamp, color);
        else if (entry && typeof entry === "object" && entry.level) {
          const { level: l, event, msg, ...rest } = entry;
          lineLevel = l;
          const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
          const failedAt = typeof rest.host === "string" ? unresolved.get(rest.host) : undefined;
          if (failedAt !== undefined && timestamp - failedAt < REPEAT_WINDOW_MS) fields.push("cause=DNS lookup failed (host does not resolve)");
          line = [
            paint("dim", clock(timestamp), color),
            paint(l === "error" ? "red" : l === "warn" ? "yellow" : "cyan", l, color),
            event ?? msg ?? "",
            ...fields,
          ]
            .filter(Boolean)
            .join(" ");
        }
      } catch {
        // not JSON: a plain console line, or workerd's own
      }
      if (line === undefined) {
        const host = dnsFailureHost(raw);
        if (host) {
          unresolved.set(host, timestamp);
          continue;
        }
        const condensed = condenseRuntimeError(raw);
        if (condensed) {
          line = `${paint("dim", clock(timestamp), color)} ${paint("yellow", "warn", color)} ${condensed}`;
          lineLevel = "warn";
          const key = condensed;
          if (last.line === key && timestamp - last.at < REPEAT_WINDOW_MS) continue;
          last = { line: key, at: timestamp };
        } else {
          line = raw;
        }
      }
      write(line, lineLevel);
    }
  };
}
