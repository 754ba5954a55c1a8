import type { Config } from "../env";
import type { Endpoint } from "../domain/hailuo";
import { AppError } from "../lib/errors";
import { readText, UpstreamBodyError } from "./read";

/** A task as RunAPI reports it on a status GET or a callback. */
export interface UpstreamTask {
  id: string;
  status: "pending" | "processing" | "completed" | "failed";
  videos?: { url: string }[];
  error?: { code: string; message: string };
  cost_cents?: number;
}

const USER_AGENT = "runapi-edge-proxy/0.1";
const UPSTREAM_STATUSES = new Set(["pending", "processing", "completed", "failed"]);
const MAX_COST_CENTS = 1_000_000; // $10 000 for one clip

/**
 * The RunAPI client: the one place that knows RunAPI's paths, auth and error shapes.
 * It sends only the upstream key and the headers it chose, never a client's credentials.
 */
export class RunApiClient {
  constructor(
    private readonly config: Config,
    /** The simulator's service binding in tests and `npm start`; the network otherwise. */
    private readonly fetcher: { fetch: typeof fetch } = globalThis,
  ) {}

  /** Creates a task. Retries a network failure or 5xx at most twice (safe: RunAPI dedupes on Idempotency-Key). */
  async createTask(endpoint: Endpoint, body: Record<string, unknown>, idempotencyKey: string): Promise<{ id: string }> {
    const path = `/api/v1/hailuo/${endpoint}`;
    const init = { method: "POST", body: JSON.stringify(body), headers: { "Idempotency-Key": idempotencyKey } };
    let attempt = 0;
    for (;;) {
      try {
        const json = await this.request(path, init);
        const id = typeof json.id === "string" ? json.id : typeof json.task_id === "string" ? json.task_id : null;
        if (!id) throw new AppError("upstream_error", "RunAPI answered a create without a task id");
        return { id };
      } catch (err) {
        const retryable = err instanceof AppError && (err.code === "upstream_error" || err.code === "upstream_unavailable") && err.details?.retryable === true;
        if (!retryable || attempt >= 2) throw err;
        attempt += 1;
        await new Promise((resolve) => setTimeout(resolve, this.config.upstreamRetryBaseMs * 2 ** (attempt - 1)));
      }
    }
  }

  /** Reads a task; null only when RunAPI says it does not know it (404). */
  async getTask(endpoint: Endpoint, id: string): Promise<UpstreamTask | null> {
    let json: Record<string, unknown>;
    try {
      json = await this.request(`/api/v1/hailuo/${endpoint}/${encodeURIComponent(id)}`, { method: "GET" });
    } catch (err) {
      if (err instanceof AppError && err.code === "not_found") return null;
      throw err;
    }
    const task = parseUpstreamTask(json);
    if (!task) throw new AppError("upstream_error", "RunAPI answered a status read with a body that is not a task");
    return task;
  }

  /** Asks RunAPI's price_quotes endpoint for a reservation amount, in cents. */
  async priceQuoteCents(action: Endpoint, model: string, params: Record<string, unknown>): Promise<number> {
    const json = await this.request("/api/v1/price_quotes", {
      method: "POST",
      body: JSON.stringify({ service: "hailuo", action, model, params }),
    });
    const quote = json.price_quote as { reservation_amount_cents?: unknown } | undefined;
    const cents = quote?.reservation_amount_cents;
    if (typeof cents !== "number" || !Number.isFinite(cents) || cents < 0)
      throw new AppError("upstream_error", "RunAPI answered a price quote without an amount");
    return cents;
  }

  /**
   * Forwards an OpenAI-compatible call (`/v1/...`) with the upstream key and returns RunAPI's response as it
   * arrives, body unread (streams stay streams). The timeout covers the wait for headers only. A non-2xx
   * answer is read and thrown as the proxy's error, like every other upstream failure.
   */
  async openAi(method: "GET" | "POST", path: `/v1/${string}`, body?: string, headersTimeoutMs = this.config.upstreamTimeoutMs): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.config.runapiApiKey}`, "User-Agent": USER_AGENT };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException("headers timeout", "TimeoutError")), headersTimeoutMs);
    let res: Response;
    try {
      res = await this.fetcher.fetch(`${this.config.runapiBaseUrl}${path}`, { method, headers, body, signal: abort.signal });
    } catch (_err) {
      if (abort.signal.aborted) throw new AppError("upstream_timeout", `RunAPI did not answer within ${headersTimeoutMs} ms`);
      throw new AppError("upstream_unavailable", "RunAPI could not be reached", { retryable: true });
    } finally {
      clearTimeout(timer);
    }
    if (res.ok) return res;
    throw mapUpstreamError(res, await readAnswer(res, this.config.upstreamMaxJsonBytes), this.config.runapiApiKey);
  }

  private async request(path: string, init: { method: string; body?: string; headers?: Record<string, string> }): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.config.runapiApiKey}`,
      Accept: "application/json",
      "User-Agent": USER_AGENT,
      ...init.headers,
    };
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await this.fetcher.fetch(`${this.config.runapiBaseUrl}${path}`, {
        method: init.method,
        headers,
        body: init.body,
        signal: AbortSignal.timeout(this.config.upstreamTimeoutMs),
      });
    } catch (err) {
      if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
        throw new AppError("upstream_timeout", `RunAPI did not answer within ${this.config.upstreamTimeoutMs} ms`);
      }
      throw new AppError("upstream_unavailable", "RunAPI could not be reached", { retryable: true });
    }
    const answer = await readAnswer(res, this.config.upstreamMaxJsonBytes);
    if (res.ok) {
      if (answer.body === "too_large") {
        throw new AppError("upstream_error", `RunAPI answered with more than ${this.config.upstreamMaxJsonBytes} bytes`, { upstream_status: res.status });
      }
      if (!answer.json) throw new AppError("upstream_error", "RunAPI answered with a body that is not JSON");
      return answer.json;
    }
    throw mapUpstreamError(res, answer, this.config.runapiApiKey);
  }
}

/** An answer's JSON object (null when it is none) and whether its body was there and read whole. */
type Answer = { json: Record<string, unknown> | null; body: "read" | "empty" | "too_large" | "broken" };

/** Reads an answer with the JSON limit (SPEC §13): a larger or broken body is noted, never read on. */
async function readAnswer(res: Response, maxBytes: number): Promise<Answer> {
  let text: string;
  try {
    text = await readText(res, maxBytes);
  } catch (err) {
    return { json: null, body: err instanceof UpstreamBodyError ? err.reason : "broken" };
  }
  if (!text.trim()) return { json: null, body: "empty" };
  try {
    const value: unknown = JSON.parse(text);
    return { json: value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null, body: "read" };
  } catch {
    return { json: null, body: "read" };
  }
}

/** RunAPI's `error` (a string or `{code, message}`) as a short, secret-free message. */
function upstreamMessage(json: Record<string, unknown> | null, secret: string): string {
  const error = json?.error;
  const raw =
    typeof error === "string" ? error : error && typeof error === "object" && "message" in error ? String((error as { message: unknown }).message) : "";
  return raw.split(secret).join("[redacted]").slice(0, 300);
}

/**
 * Maps an upstream failure onto the proxy's error codes (SPEC §3); never echoes credentials. An error
 * answer without a readable body says so (`upstream_body: "none"`): it is no proof that RunAPI did nothing.
 */
function mapUpstreamError(res: Response, answer: Answer, secret: string): AppError {
  const message = upstreamMessage(answer.json, secret);
  const details: Record<string, unknown> = { upstream_status: res.status };
  if (answer.body !== "read") details.upstream_body = "none";
  switch (res.status) {
    case 400:
    case 422:
      return new AppError("invalid_request", `RunAPI rejected the request${message ? `: ${message}` : ""}`, details);
    case 401:
    case 403:
      return new AppError("upstream_error", "RunAPI rejected the proxy's credentials; the operator must check RUNAPI_API_KEY", details);
    case 402:
      return new AppError("upstream_unavailable", "The operator's RunAPI account is out of credits; the operator must top it up", details);
    case 404:
      return new AppError("not_found", "RunAPI does not know this task", details);
    case 409:
      return new AppError("upstream_error", `RunAPI refused the request as a conflict${message ? `: ${message}` : ""}`, details);
    case 429: {
      const retryAfter = res.headers.get("retry-after");
      const seconds = retryAfter && /^\d+$/.test(retryAfter) ? retryAfter : "30";
      return new AppError(
        "rate_limited",
        "RunAPI is rate limiting the proxy; retry later",
        { ...details, retry_after_seconds: Number(seconds) },
        { "Retry-After": seconds },
      );
    }
    default:
      if (res.status >= 500) return new AppError("upstream_error", `RunAPI failed with status ${res.status}`, { ...details, retryable: true });
      return new AppError("upstream_error", `RunAPI answered with unexpected status ${res.status}`, details);
  }
}

/**
 * Whether a failed create may still have been accepted by RunAPI: its answer was lost (a timeout, or
 * the connection failing), as opposed to RunAPI answering with an error. Such a task is reconciled.
 */
export function isLostAnswer(err: unknown): boolean {
  if (!(err instanceof AppError)) return true;
  return err.code === "upstream_timeout" || (err.code === "upstream_unavailable" && err.details?.retryable === true);
}

/** Checks and narrows a task from RunAPI (status GET or callback body); null when it is not one. */
export function parseUpstreamTask(json: unknown): UpstreamTask | null {
  if (!json || typeof json !== "object") return null;
  const t = json as Record<string, unknown>;
  const id = typeof t.id === "string" ? t.id : typeof t.task_id === "string" ? t.task_id : null;
  if (!id || typeof t.status !== "string" || !UPSTREAM_STATUSES.has(t.status)) return null;
  const task: UpstreamTask = { id, status: t.status as UpstreamTask["status"] };
  if (Array.isArray(t.videos)) {
    task.videos = t.videos.filter((v): v is { url: string } => !!v && typeof (v as { url?: unknown }).url === "string").map((v) => ({ url: v.url }));
  }
  if (t.error !== undefined && t.error !== null) {
    task.error =
      typeof t.error === "string"
        ? { code: "upstream_failed", message: t.error.slice(0, 500) }
        : {
            code: String((t.error as { code?: unknown }).code ?? "upstream_failed"),
            message: String((t.error as { message?: unknown }).message ?? "").slice(0, 500),
          };
  }
  // A cost outside any sane range is ignored (the estimate is charged), never trusted.
  if (typeof t.cost_cents === "number" && Number.isFinite(t.cost_cents) && t.cost_cents >= 0 && t.cost_cents <= MAX_COST_CENTS) task.cost_cents = t.cost_cents;
  return task;
}
