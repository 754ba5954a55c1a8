import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { SimState } from "./state";

/** The simulator worker's bindings; every var is optional except SIM_API_KEY, which is checked per request. */
export interface SimEnv {
  SIM: DurableObjectNamespace<SimState>;
  SIM_API_KEY?: string;
  SIM_CALLBACK_MODE?: string;
  SIM_PROCESSING_AFTER_MS?: string;
  SIM_COMPLETE_AFTER_MS?: string;
  SIM_SLOW_MS?: string;
  /** When set, the Turnstile stand-in accepts only this secret. */
  SIM_TURNSTILE_SECRET?: string;
  /** RunAPI's account concurrency limit: tasks in progress at once; beyond it a create is answered 429 (0 or unset: none). */
  SIM_MAX_CONCURRENT?: string;
  /** RunAPI's account rate limit: creates in any 60 s; beyond it a create is answered 429 (0 or unset: none). */
  SIM_REQUESTS_PER_MINUTE?: string;
}

/** Hono's environment for every simulator route. */
export type SimApp = { Bindings: SimEnv };

/** How terminal tasks reach their `callback_url`: POSTed by an alarm, or queued for tests to take. */
export type CallbackMode = "fetch" | "outbox";

/** The simulator's timings and callback mode, with defaults for absent bindings. */
export interface SimConfig {
  processingAfterMs: number;
  completeAfterMs: number;
  slowMs: number;
  callbackMode: CallbackMode;
  /** The account's limits (0: none); `POST /__sim/limits` changes them at run time. */
  maxConcurrent: number;
  requestsPerMinute: number;
}

const DEFAULTS = { processingAfterMs: 2000, completeAfterMs: 8000, slowMs: 4000 };

const millis = (raw: string | undefined, fallback: number): number => {
  const n = raw === undefined || raw === "" ? NaN : Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
};

/** Reads the simulator's vars; malformed numbers fall back to the defaults. */
export function simConfig(env: SimEnv): SimConfig {
  const processingAfterMs = millis(env.SIM_PROCESSING_AFTER_MS, DEFAULTS.processingAfterMs);
  return {
    processingAfterMs,
    completeAfterMs: Math.max(processingAfterMs, millis(env.SIM_COMPLETE_AFTER_MS, DEFAULTS.completeAfterMs)),
    slowMs: millis(env.SIM_SLOW_MS, DEFAULTS.slowMs),
    callbackMode: env.SIM_CALLBACK_MODE === "outbox" ? "outbox" : "fetch",
    maxConcurrent: Math.floor(millis(env.SIM_MAX_CONCURRENT, 0)),
    requestsPerMinute: Math.floor(millis(env.SIM_REQUESTS_PER_MINUTE, 0)),
  };
}

/** The one simulator object (`idFromName("sim")`) that holds tasks, requests and callbacks. */
export function simState(env: SimEnv): DurableObjectStub<SimState> {
  return env.SIM.get(env.SIM.idFromName("sim"));
}

/** An error a handler throws; `onError` answers it as `{error:{code,message}}` (or a bare string). */
export class SimError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers?: Record<string, string>,
    readonly bare = false,
  ) {
    super(message);
    this.name = "SimError";
  }
}

/** The simulator's one onError: SimError → its status and body; anything else → logged 500. */
export function handleSimError(err: Error, c: Context<SimApp>): Response {
  if (err instanceof SimError) {
    const body = err.bare ? { error: err.message } : { error: { code: err.code, message: err.message } };
    return c.json(body, err.status, err.headers);
  }
  console.error(`runapi-sim: ${err.name}: ${err.message}`);
  return c.json({ error: { code: "internal_error", message: "Simulator error" } }, 500);
}

/** Reads a JSON body (already cached by the recorder) or throws a 400. */
export async function readJson(c: Context<SimApp>): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SimError(400, "invalid_request", "Body must be a JSON object");
  }
}
