import type { SimConfig } from "./env";

/** The account's limits as the simulator enforces them (0: none), and what it saw: the most tasks in flight at once, the 429s it answered. */
export interface AccountLimitsView {
  max_concurrent: number;
  requests_per_minute: number;
  in_flight: number;
  peak_in_flight: number;
  refused: number;
}

/**
 * RunAPI's account limits (SPEC §14's test bed): at most `max_concurrent` tasks in progress at once and
 * `requests_per_minute` creates in any 60 s; beyond either a create is answered 429 with Retry-After, as RunAPI does.
 * Set by SIM_MAX_CONCURRENT / SIM_REQUESTS_PER_MINUTE, or at run time through `POST /__sim/limits`.
 */
export class AccountLimits {
  constructor(
    private readonly sql: SqlStorage,
    private readonly config: SimConfig,
  ) {
    sql.exec("CREATE TABLE IF NOT EXISTS account (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
  }

  /** Null when one more create fits at `now`; else the seconds RunAPI would ask the caller to wait. Counts the refusal. */
  check(now: number): number | null {
    const { maxConcurrent, requestsPerMinute } = this.limits();
    if (maxConcurrent > 0) {
      const inFlight = this.inFlight(now);
      if (inFlight >= maxConcurrent) return this.refuse(this.secondsUntil(now, this.firstDone(now)));
    }
    if (requestsPerMinute > 0) {
      const recent = this.sql
        .exec<{ n: number; first: number | null }>("SELECT COUNT(*) AS n, MIN(created_at) AS first FROM tasks WHERE created_at > ?", now - 60_000)
        .one();
      if (recent.n >= requestsPerMinute) return this.refuse(this.secondsUntil(now, (recent.first ?? now) + 60_000));
    }
    return null;
  }

  /** A task was made: the peak in flight follows, under a concurrency limit (without one it costs a count of every task, per create). */
  created(now: number): void {
    if (this.limits().maxConcurrent <= 0) return;
    const inFlight = this.inFlight(now);
    if (inFlight > this.get("peak_in_flight")) this.set("peak_in_flight", inFlight);
  }

  /** The limits and what was seen. */
  view(now: number): AccountLimitsView {
    const { maxConcurrent, requestsPerMinute } = this.limits();
    return {
      max_concurrent: maxConcurrent,
      requests_per_minute: requestsPerMinute,
      in_flight: this.inFlight(now),
      peak_in_flight: this.get("peak_in_flight"),
      refused: this.get("refused"),
    };
  }

  /** Sets the limits (a field left out keeps its value) and, when asked, forgets the peak and the refusals. */
  update(input: { max_concurrent?: number; requests_per_minute?: number; reset_stats?: boolean }): void {
    if (input.max_concurrent !== undefined) this.set("max_concurrent", input.max_concurrent);
    if (input.requests_per_minute !== undefined) this.set("requests_per_minute", input.requests_per_minute);
    if (input.reset_stats) {
      this.set("peak_in_flight", 0);
      this.set("refused", 0);
    }
  }

  private limits(): { maxConcurrent: number; requestsPerMinute: number } {
    return {
      maxConcurrent: this.get("max_concurrent", this.config.maxConcurrent),
      requestsPerMinute: this.get("requests_per_minute", this.config.requestsPerMinute),
    };
  }

  /** Tasks made, not synchronous, not yet at a terminal state by time or by force. */
  private inFlight(now: number): number {
    return this.sql
      .exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM tasks WHERE (forced_status IS NULL OR forced_status NOT IN ('completed', 'failed')) AND created_at > ?",
        now - this.config.completeAfterMs,
      )
      .one().n;
  }

  /** When the oldest task in flight ends by itself. */
  private firstDone(now: number): number {
    const first = this.sql
      .exec<{ t: number | null }>(
        "SELECT MIN(created_at) AS t FROM tasks WHERE (forced_status IS NULL OR forced_status NOT IN ('completed', 'failed')) AND created_at > ?",
        now - this.config.completeAfterMs,
      )
      .one().t;
    return (first ?? now) + this.config.completeAfterMs;
  }

  private secondsUntil(now: number, at: number): number {
    return Math.min(60, Math.max(1, Math.ceil((at - now) / 1000)));
  }

  private refuse(seconds: number): number {
    this.set("refused", this.get("refused") + 1);
    return seconds;
  }

  private get(key: string, fallback = 0): number {
    return this.sql.exec<{ value: number }>("SELECT value FROM account WHERE key = ?", key).toArray()[0]?.value ?? fallback;
  }

  private set(key: string, value: number): void {
    this.sql.exec("INSERT INTO account (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value);
  }
}
