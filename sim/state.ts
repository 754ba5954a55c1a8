import { DurableObject } from "cloudflare:workers";
import { simConfig, type SimConfig, type SimEnv } from "./env";
import { isTerminal, movesForward, parseMarkers, progress, taskView, type HailuoEndpoint, type SimStatus, type TaskRecord, type TaskView } from "./progress";

/** One request the simulator received on /api or /v1, as it arrived. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: string;
}

/** A terminal task's callback: queued (outbox mode) or being delivered (fetch mode). */
export interface SimCallback {
  task_id: string;
  url: string;
  body: TaskView;
  at: string;
  state: "outbox" | "pending" | "delivered" | "failed";
  attempts: number;
}

/** What a create asks the state to do. */
export interface CreateInput {
  endpoint: HailuoEndpoint;
  model: string;
  prompt: string;
  callbackUrl: string | null;
  idempotencyKey: string | null;
  fingerprint: string;
  /** The origin the create came in on: the task's video URL is served from there. */
  baseUrl: string | null;
}

/** The create response body RunAPI answers with. */
export interface CreatedTask {
  id: string;
  task_id: string;
  status: "pending";
  model: string;
}

/** One Idempotency-Key the simulator saw and the task it made for it. */
export interface IdempotencyRecord {
  key: string;
  task_id: string;
  status: SimStatus;
  prompt: string;
  cost_cents?: number;
}

/** A forced move of the control API. */
export interface AdvanceInput {
  status: Exclude<SimStatus, "pending">;
  cost_cents?: number;
  error?: string;
}

/** A task for the control API: the status view plus what the simulator was told. */
export type TaskDetail = TaskView & { endpoint: HailuoEndpoint; callback_url: string | null; prompt: string };

const MAX_RECORDED = 10_000;
const DELIVERY_ATTEMPTS = 3;
const RETRY_DELAY_MS = [1_000, 5_000];

type TaskRow = {
  id: string;
  base_url: string | null;
  endpoint: string;
  model: string;
  prompt: string;
  callback_url: string | null;
  created_at: number;
  forced_status: string | null;
  forced_at: number | null;
  forced_cost_cents: number | null;
  forced_error: string | null;
};
type CallbackRow = { seq: number; task_id: string; url: string; body: string; at: string; state: string; attempts: number };

const toRecord = (r: TaskRow): TaskRecord => ({
  id: r.id,
  endpoint: r.endpoint as HailuoEndpoint,
  model: r.model,
  prompt: r.prompt,
  callbackUrl: r.callback_url,
  createdAt: r.created_at,
  forcedStatus: r.forced_status as SimStatus | null,
  forcedAt: r.forced_at,
  forcedCostCents: r.forced_cost_cents,
  forcedError: r.forced_error,
  baseUrl: r.base_url,
});

const toCallback = (r: CallbackRow): SimCallback => ({
  task_id: r.task_id,
  url: r.url,
  body: JSON.parse(r.body) as TaskView,
  at: r.at,
  state: r.state as SimCallback["state"],
  attempts: r.attempts,
});

/** The simulator's whole state (one instance): tasks, idempotency keys, the request record, callbacks. */
export class SimState extends DurableObject<SimEnv> {
  private readonly sql: SqlStorage;
  private readonly config: SimConfig;

  constructor(ctx: DurableObjectState, env: SimEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.config = simConfig(env);
    void ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`
        CREATE TABLE IF NOT EXISTS requests (seq INTEGER PRIMARY KEY AUTOINCREMENT, method TEXT, path TEXT, headers TEXT, body TEXT, at TEXT);
        CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, endpoint TEXT, model TEXT, prompt TEXT, callback_url TEXT,
          created_at INTEGER, forced_status TEXT, forced_at INTEGER, forced_cost_cents REAL, forced_error TEXT,
          wants_callback INTEGER, callback_emitted INTEGER DEFAULT 0);
        CREATE INDEX IF NOT EXISTS tasks_unemitted ON tasks (callback_emitted, wants_callback);
        CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, fingerprint TEXT, response TEXT, at INTEGER);
        CREATE TABLE IF NOT EXISTS callbacks (seq INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT, url TEXT, body TEXT, at TEXT,
          state TEXT, attempts INTEGER DEFAULT 0, next_at INTEGER);
        CREATE INDEX IF NOT EXISTS callbacks_task ON callbacks (task_id);
        CREATE TABLE IF NOT EXISTS videos (id TEXT PRIMARY KEY, downloads INTEGER NOT NULL DEFAULT 0, vanished INTEGER NOT NULL DEFAULT 0);
      `);
      const columns = this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('tasks')").toArray();
      if (!columns.some((c) => c.name === "base_url")) this.sql.exec("ALTER TABLE tasks ADD COLUMN base_url TEXT");
    });
  }

  /** Appends a received request to the record (the oldest are dropped past 10 000). */
  record(request: RecordedRequest): void {
    this.sql.exec(
      "INSERT INTO requests (method, path, headers, body, at) VALUES (?, ?, ?, ?, ?)",
      request.method,
      request.path,
      JSON.stringify(request.headers),
      request.body,
      request.at,
    );
    this.sql.exec("DELETE FROM requests WHERE seq <= (SELECT MAX(seq) FROM requests) - ?", MAX_RECORDED);
  }

  /** Recorded requests, oldest first, whose body contains `contains` and whose path starts with `path`. */
  requests(filter: { contains?: string; path?: string }): RecordedRequest[] {
    const rows = this.sql
      .exec<{ method: string; path: string; headers: string; body: string; at: string }>(
        `SELECT method, path, headers, body, at FROM requests
       WHERE (?1 IS NULL OR instr(body, ?1) > 0) AND (?2 IS NULL OR substr(path, 1, length(?2)) = ?2) ORDER BY seq`,
        filter.contains ?? null,
        filter.path ?? null,
      )
      .toArray();
    return rows.map((r) => ({ ...r, headers: JSON.parse(r.headers) as Record<string, string> }));
  }

  /** Creates a task, or replays / refuses by its Idempotency-Key. Check and write in one synchronous stretch. */
  create(input: CreateInput): { kind: "created" | "replayed"; task: CreatedTask } | { kind: "conflict" } {
    if (input.idempotencyKey !== null) {
      const seen = this.sql
        .exec<{ fingerprint: string; response: string }>("SELECT fingerprint, response FROM idempotency WHERE key = ?", input.idempotencyKey)
        .toArray()[0];
      if (seen) return seen.fingerprint === input.fingerprint ? { kind: "replayed", task: JSON.parse(seen.response) as CreatedTask } : { kind: "conflict" };
    }
    const id = crypto.randomUUID();
    const now = Date.now();
    const wantsCallback = input.callbackUrl !== null && !parseMarkers(input.prompt).noCallback;
    this.sql.exec(
      "INSERT INTO tasks (id, endpoint, model, prompt, callback_url, created_at, wants_callback, base_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      id,
      input.endpoint,
      input.model,
      input.prompt,
      input.callbackUrl,
      now,
      wantsCallback ? 1 : 0,
      input.baseUrl,
    );
    const task: CreatedTask = { id, task_id: id, status: "pending", model: input.model };
    if (input.idempotencyKey !== null) {
      this.sql.exec(
        "INSERT INTO idempotency (key, fingerprint, response, at) VALUES (?, ?, ?, ?)",
        input.idempotencyKey,
        input.fingerprint,
        JSON.stringify(task),
        now,
      );
    }
    if (wantsCallback) this.schedule();
    return { kind: "created", task };
  }

  /** The task a create with this Idempotency-Key made, or null. */
  byIdempotencyKey(key: string): CreatedTask | null {
    const row = this.sql.exec<{ response: string }>("SELECT response FROM idempotency WHERE key = ?", key).toArray()[0];
    return row ? (JSON.parse(row.response) as CreatedTask) : null;
  }

  /**
   * Every task a create with an Idempotency-Key made, oldest first, with its status now: what the
   * simulator "did", for audits (the chaos run) to hold against the proxy's ledger.
   */
  idempotencyRecord(): IdempotencyRecord[] {
    const now = Date.now();
    const rows = this.sql
      .exec<TaskRow & { key: string }>(
        `SELECT i.key AS key, t.* FROM idempotency i JOIN tasks t ON t.id = json_extract(i.response, '$.id') ORDER BY i.at, t.created_at`,
      )
      .toArray();
    return rows.map(({ key, ...row }) => {
      const view = taskView(toRecord(row), now, this.config);
      const cost = view.cost_cents === undefined ? {} : { cost_cents: view.cost_cents };
      return { key, task_id: view.id, status: view.status, prompt: row.prompt, ...cost };
    });
  }

  /** A task as the control API shows it, or null when unknown. */
  task(id: string): TaskDetail | null {
    const now = Date.now();
    this.emitDue(now);
    const row = this.row(id);
    if (!row) return null;
    const record = toRecord(row);
    return { ...taskView(record, now, this.config), endpoint: record.endpoint, callback_url: record.callbackUrl, prompt: record.prompt };
  }

  /** Forces a task forward (a backward move is ignored) and emits its callback when it became terminal. */
  advance(id: string, input: AdvanceInput): TaskDetail | null {
    const now = Date.now();
    const row = this.row(id);
    if (!row) return null;
    const current = progress(toRecord(row), now, this.config).status;
    if (movesForward(current, input.status)) {
      this.sql.exec(
        "UPDATE tasks SET forced_status = ?, forced_at = ?, forced_cost_cents = ?, forced_error = ? WHERE id = ?",
        input.status,
        now,
        input.cost_cents ?? null,
        input.error ?? null,
        id,
      );
    }
    return this.task(id);
  }

  /** Callbacks emitted so far (optionally for one task), oldest first; `take` removes them. */
  outbox(taskId: string | null, take: boolean): SimCallback[] {
    this.emitDue(Date.now());
    const where = "WHERE (?1 IS NULL OR task_id = ?1)";
    const rows = this.sql.exec<CallbackRow>(`SELECT * FROM callbacks ${where} ORDER BY seq`, taskId).toArray();
    if (take) this.sql.exec(`DELETE FROM callbacks ${where} AND seq <= ?2`, taskId, rows.at(-1)?.seq ?? 0);
    return rows.map(toCallback);
  }

  /** Emits callbacks that came due by time, then delivers pending ones (fetch mode), retrying a failed POST. */
  override async alarm(): Promise<void> {
    this.emitDue(Date.now());
    const due = this.sql.exec<CallbackRow>("SELECT * FROM callbacks WHERE state = 'pending' AND next_at <= ? ORDER BY seq", Date.now()).toArray();
    for (const cb of due) {
      const res = await fetch(cb.url, { method: "POST", headers: { "content-type": "application/json" }, body: cb.body }).catch(() => null);
      if (res) await res.body?.cancel();
      const attempts = cb.attempts + 1;
      const state = res?.ok ? "delivered" : attempts >= DELIVERY_ATTEMPTS ? "failed" : "pending";
      const nextAt = Date.now() + (RETRY_DELAY_MS[attempts - 1] ?? 0);
      this.sql.exec("UPDATE callbacks SET state = ?, attempts = ?, next_at = ? WHERE seq = ?", state, attempts, nextAt, cb.seq);
    }
    this.schedule();
  }

  /** Counts a download of a task's video; null for an unknown task. */
  videoDownload(id: string): { prompt: string; status: SimStatus; downloads: number; vanished: boolean } | null {
    const row = this.row(id);
    if (!row) return null;
    const v = this.sql
      .exec<{ downloads: number; vanished: number }>(
        "INSERT INTO videos (id, downloads) VALUES (?, 1) ON CONFLICT (id) DO UPDATE SET downloads = downloads + 1 RETURNING downloads, vanished",
        id,
      )
      .one();
    return { prompt: row.prompt, status: progress(toRecord(row), Date.now(), this.config).status, downloads: v.downloads, vanished: v.vanished === 1 };
  }

  /** Makes a task's video disappear (later downloads are 404s); false for an unknown task. */
  vanishVideo(id: string): boolean {
    if (!this.row(id)) return false;
    this.sql.exec("INSERT INTO videos (id, vanished) VALUES (?, 1) ON CONFLICT (id) DO UPDATE SET vanished = 1", id);
    return true;
  }

  /** How often a task's video was downloaded, and whether it vanished. */
  videoStats(id: string): { downloads: number; vanished: boolean } {
    const v = this.sql.exec<{ downloads: number; vanished: number }>("SELECT downloads, vanished FROM videos WHERE id = ?", id).toArray()[0];
    return { downloads: v?.downloads ?? 0, vanished: v?.vanished === 1 };
  }

  private row(id: string): TaskRow | undefined {
    return this.sql.exec<TaskRow>("SELECT * FROM tasks WHERE id = ?", id).toArray()[0];
  }

  /** Marks every task that reached a terminal state (and wants a callback) as emitted, and queues its callback. */
  private emitDue(now: number): void {
    const horizon = now - this.config.completeAfterMs;
    const rows = this.sql
      .exec<TaskRow>(
        `SELECT * FROM tasks WHERE callback_emitted = 0 AND wants_callback = 1
       AND (forced_status IN ('completed', 'failed') OR created_at <= ?)`,
        horizon,
      )
      .toArray();
    const mode = this.config.callbackMode;
    for (const row of rows) {
      const record = toRecord(row);
      const view = taskView(record, now, this.config);
      if (!isTerminal(view.status) || record.callbackUrl === null) continue;
      this.sql.exec("UPDATE tasks SET callback_emitted = 1 WHERE id = ?", record.id);
      this.sql.exec(
        "INSERT INTO callbacks (task_id, url, body, at, state, next_at) VALUES (?, ?, ?, ?, ?, ?)",
        record.id,
        record.callbackUrl,
        JSON.stringify(view),
        new Date(now).toISOString(),
        mode === "outbox" ? "outbox" : "pending",
        now,
      );
    }
    if (rows.length > 0 && mode === "fetch") this.schedule();
  }

  /** Sets the alarm to the next natural completion or delivery retry, whichever is first. */
  private schedule(): void {
    const next = this.sql
      .exec<{ at: number | null }>(
        `SELECT MIN(at) AS at FROM (
         SELECT MIN(next_at) AS at FROM callbacks WHERE state = 'pending'
         UNION ALL SELECT MIN(created_at) + ? AS at FROM tasks
           WHERE callback_emitted = 0 AND wants_callback = 1 AND (forced_status IS NULL OR forced_status = 'processing'))`,
        this.config.completeAfterMs,
      )
      .one().at;
    if (next !== null) void this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }
}
