/** One structured JSON line per event, to the Worker's logs (Workers Logs / `wrangler tail`). Never pass a secret. */
type Fields = Record<string, string | number | boolean | null | undefined>;

/** Fields of a log line: flat JSON values, never a secret. */
export type LogFields = Fields;

function line(level: "info" | "warn" | "error", event: string, fields: Fields): string {
  return JSON.stringify({ level, event, ...fields });
}

/** The proxy's logger. */
export const log = {
  info: (event: string, fields: Fields = {}) => console.log(line("info", event, fields)),
  warn: (event: string, fields: Fields = {}) => console.warn(line("warn", event, fields)),
  error: (event: string, fields: Fields = {}) => console.error(line("error", event, fields)),
};
