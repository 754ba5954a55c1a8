import type { Bindings } from "../env";
import { metrics, type Outcome } from "./metrics";

/** What a RunAPI call does, from its method and path (a bounded label: never an id). */
export function upstreamOperation(method: string, path: string): string {
  if (path === "/v1/chat/completions") return "chat";
  if (path === "/v1/models" || path.startsWith("/v1/models/")) return "models";
  if (path === "/api/v1/price_quotes") return "price_quote";
  if (path.startsWith("/api/v1/price_schedules")) return "price_schedules";
  const m = path.match(/^\/api\/v1\/[^/]+\/[^/]+(\/[^/]+)?$/);
  if (m) return method === "POST" && !m[1] ? "create" : method === "GET" && m[1] ? "status" : "other";
  return path.startsWith("/api/") || path.startsWith("/v1/") ? "other" : "download";
}

/** The path of an absolute URL, without its query or fragment. */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const end = url.slice(start).search(/[?#]/);
  return end === -1 ? url.slice(start) : url.slice(start, start + end);
}

/** A fetcher that times every call through it and counts its failures (`metrics.upstream`). */
function meteredFetcher(inner: { fetch: typeof fetch }): Fetcher {
  const timed = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    // The operation from the URL's text (no Request or URL made for it: this is on every RunAPI call's path).
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    const operation = upstreamOperation(method.toUpperCase(), pathOf(url));
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const res = await inner.fetch(input, init);
      metrics.upstream(operation, { status: res.status }, seconds());
      return res;
    } catch (err) {
      const name = err instanceof Error ? err.name : "";
      const outcome: Outcome = { error: name === "TimeoutError" || name === "AbortError" ? "timeout" : "network" };
      metrics.upstream(operation, outcome, seconds());
      throw err;
    }
  };
  return { fetch: timed } as unknown as Fetcher;
}

const metered = new WeakMap<Bindings, Bindings>();

/**
 * The env with RunAPI calls metered: `RUNAPI` (the simulator's binding where one is bound, the network
 * otherwise) becomes a fetcher that times each call. The same object for the same env, so the config
 * checked once per env stays checked once.
 */
export function withUpstreamMeter(env: Bindings): Bindings {
  let out = metered.get(env);
  if (!out) {
    const inner = env.RUNAPI ?? { fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init) };
    out = Object.create(env, { RUNAPI: { value: meteredFetcher(inner), enumerable: true } }) as Bindings;
    metered.set(env, out);
  }
  return out;
}
