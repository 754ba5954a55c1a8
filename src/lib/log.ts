/** Log levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Fields of a log line: flat JSON values. Never put a secret (keys, tokens, signing secrets) in one. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const SINK: Record<LogLevel, (line: string) => void> = {
  debug: (line) => console.debug(line),
  info: (line) => console.log(line),
  warn: (line) => console.warn(line),
  error: (line) => console.error(line),
};

/**
 * One structured line: `{"level","msg",...fields}` as JSON, the shape Workers Logs indexes and
 * `npm start` pretty-prints. Undefined fields are left out.
 */
export function log(level: LogLevel, msg: string, fields: LogFields = {}): void {
  SINK[level](JSON.stringify({ level, msg, ...fields }));
}
