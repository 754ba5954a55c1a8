import { DurableObject } from "cloudflare:workers";
import { findAction } from "../src/catalog/catalog";
import { AccountLimits, type AccountLimitsView } from "./account-limits";
import { CallbackQueue } from "./callbacks";
import { simConfig, type SimConfig, type SimEnv } from "./env";
import { FileStore, type FileRecord, type Refusal, type UploadRecord } from "./file-store";
import { fileCount } from "./outputs";
import { PriceStore } from "./price-store";
import type { Price } from "./pricing";
import { movesForward, parseMarkers, progress, promptOf, stringsOf, taskView } from "./progress";
import type { SchedulePatch } from "./schedule";
import {
  ADDED_COLUMNS,
  MAX_RECORDED,
  toRecord,
  type AdvanceInput,
  type CreateAnswer,
  type CreatedTask,
  type CreateInput,
  type FileDownload,
  type IdempotencyRecord,
  type RecordedRequest,
  type SimCallback,
  type TaskDetail,
  type TaskRow,
} from "./task-rows";

/** The simulator's whole state (one instance): tasks, idempotency keys, the request record, callbacks. */
export class SimState extends DurableObject<SimEnv> {
  private readonly sql: SqlStorage;
  private readonly config: SimConfig;
  private readonly prices: PriceStore;
  private readonly files: FileStore;
  private readonly callbacks: CallbackQueue;
  private readonly account: AccountLimits;

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
      const columns = new Set(
        this.sql
          .exec<{ name: string }>("SELECT name FROM pragma_table_info('tasks')")
          .toArray()
          .map((c) => c.name),
      );
      for (const column of ADDED_COLUMNS) if (!columns.has(column.split(" ")[0]!)) this.sql.exec(`ALTER TABLE tasks ADD COLUMN ${column}`);
    });
    this.prices = new PriceStore(this.sql);
    this.files = new FileStore(this.sql);
    this.callbacks = new CallbackQueue(this.sql, this.config, (at) => void ctx.storage.setAlarm(at));
    this.account = new AccountLimits(this.sql, this.config);
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

  /**
   * Creates a task (priced by the simulator's schedule now), or replays / refuses by its Idempotency-Key.
   * Check and write in one synchronous stretch. A synchronous action's task is made completed.
   */
  create(input: CreateInput): { kind: "created" | "replayed"; task: CreateAnswer } | { kind: "conflict" } | { kind: "busy"; retryAfterSeconds: number } {
    if (input.idempotencyKey !== null) {
      const seen = this.sql
        .exec<{ fingerprint: string; response: string }>("SELECT fingerprint, response FROM idempotency WHERE key = ?", input.idempotencyKey)
        .toArray()[0];
      if (seen) return seen.fingerprint === input.fingerprint ? { kind: "replayed", task: JSON.parse(seen.response) as CreateAnswer } : { kind: "conflict" };
    }
    const now = Date.now();
    // The account's limits (a replay above is answered whatever they are, as RunAPI does).
    const busy = input.sync ? null : this.account.check(now);
    if (busy !== null) return { kind: "busy", retryAfterSeconds: busy };
    const id = crypto.randomUUID();
    const text = stringsOf(input.body);
    const wantsCallback = !input.sync && input.callbackUrl !== null && !parseMarkers(text).noCallback;
    const price = this.price(input.service, input.endpoint, input.model, input.body);
    this.sql.exec(
      `INSERT INTO tasks (id, service, endpoint, modality, model, prompt, body, price_cents, callback_url, created_at, wants_callback, base_url,
         forced_status, forced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      input.service,
      input.endpoint,
      input.modality,
      input.model,
      promptOf(input.body),
      JSON.stringify(input.body),
      price.ok ? price.costCents : null,
      input.callbackUrl,
      now,
      wantsCallback ? 1 : 0,
      input.baseUrl,
      input.sync ? "completed" : null,
      input.sync ? now : null,
    );
    const task: CreateAnswer = input.sync ? taskView(toRecord(this.row(id)!), now, this.config) : { id, task_id: id, status: "pending", model: input.model };
    if (input.idempotencyKey !== null) {
      this.sql.exec(
        "INSERT INTO idempotency (key, fingerprint, response, at) VALUES (?, ?, ?, ?)",
        input.idempotencyKey,
        input.fingerprint,
        JSON.stringify(task),
        now,
      );
    }
    if (wantsCallback) this.callbacks.schedule();
    if (!input.sync) this.account.created(now);
    return { kind: "created", task };
  }

  /** The account's limits and what they saw (control API); `update` changes them first. */
  accountLimits(update?: { max_concurrent?: number; requests_per_minute?: number; reset_stats?: boolean }): AccountLimitsView {
    if (update) this.account.update(update);
    return this.account.view(Date.now());
  }

  /** A request's price by the simulator's schedule now (what `price_quotes` answers), with the schedule's date. */
  price(service: string, action: string, model: string | null, params: Record<string, unknown>): Price & { as_of: string } {
    const catalogAction = service === "chat" ? null : (findAction(service, action) ?? null);
    return { ...this.prices.price(catalogAction, service, action, model, params), as_of: this.prices.doc().as_of };
  }

  /** The price schedule now, as JSON text (its entries' free-form `billing_config` cannot be typed across RPC). */
  schedule(): string {
    return JSON.stringify(this.prices.doc());
  }

  /** Changes the price schedule (control API); answers it as JSON text. */
  patchSchedule(patch: SchedulePatch): string {
    return JSON.stringify(this.prices.patch(patch, new Date()));
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
    this.callbacks.emitDue(now);
    const row = this.row(id);
    if (!row) return null;
    const record = toRecord(row);
    return {
      ...taskView(record, now, this.config),
      service: record.service,
      endpoint: record.endpoint,
      callback_url: record.callbackUrl,
      prompt: record.prompt,
      text: record.text,
    };
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
    return this.callbacks.outbox(taskId, take, Date.now());
  }

  /** Emits callbacks that came due by time, then delivers pending ones (fetch mode), retrying a failed POST. */
  override async alarm(): Promise<void> {
    await this.callbacks.deliverDue();
  }

  /** Counts a download of one of a task's files; null for an unknown task. */
  fileDownload(id: string): FileDownload | null {
    const row = this.row(id);
    if (!row) return null;
    const v = this.sql
      .exec<{ downloads: number; vanished: number }>(
        "INSERT INTO videos (id, downloads) VALUES (?, 1) ON CONFLICT (id) DO UPDATE SET downloads = downloads + 1 RETURNING downloads, vanished",
        id,
      )
      .one();
    const record = toRecord(row);
    return {
      text: record.text,
      status: progress(record, Date.now(), this.config).status,
      modality: record.modality,
      files: fileCount({ id, action: record.endpoint, modality: record.modality, baseUrl: null, body: record.body }),
      downloads: v.downloads,
      vanished: v.vanished === 1,
    };
  }

  /** Makes a task's files disappear (later downloads are 404s); false for an unknown task. */
  vanishVideo(id: string): boolean {
    if (!this.row(id)) return false;
    this.sql.exec("INSERT INTO videos (id, vanished) VALUES (?, 1) ON CONFLICT (id) DO UPDATE SET vanished = 1", id);
    return true;
  }

  /** How often a task's files were downloaded, and whether they vanished. */
  videoStats(id: string): { downloads: number; vanished: boolean } {
    const v = this.sql.exec<{ downloads: number; vanished: number }>("SELECT downloads, vanished FROM videos WHERE id = ?", id).toArray()[0];
    return { downloads: v?.downloads ?? 0, vanished: v?.vanished === 1 };
  }

  /** Stores a whole uploaded file. */
  putFile(fileName: string, mimeType: string, bytes: Uint8Array): FileRecord {
    return this.files.put(fileName, mimeType, bytes, Date.now());
  }

  /** Reserves a direct upload. */
  prepareFile(fileName: string, mimeType: string, size: number, checksum: string | null): FileRecord {
    return this.files.prepare(fileName, mimeType, size, checksum, Date.now());
  }

  /** Takes the bytes of a direct upload. */
  receiveFile(id: string, bytes: Uint8Array): Promise<FileRecord | Refusal> {
    return this.files.receive(id, bytes);
  }

  /** Confirms a direct upload. */
  confirmFile(id: string): FileRecord | Refusal {
    return this.files.confirm(id);
  }

  /** An uploaded file and its bytes, or null. */
  readFile(id: string): { file: FileRecord; bytes: Uint8Array } | null {
    return this.files.read(id, Date.now());
  }

  /** Opens a multipart upload. */
  createUpload(filename: string, mimeType: string, bytes: number, purpose: string): UploadRecord {
    return this.files.createUpload(filename, mimeType, bytes, purpose, Date.now());
  }

  /** Adds a part to a multipart upload. */
  addUploadPart(uploadId: string, bytes: Uint8Array): { id: string; upload_id: string; created_at: number } | Refusal {
    return this.files.addPart(uploadId, bytes, Date.now());
  }

  /** Completes a multipart upload into a file. */
  completeUpload(uploadId: string, partIds: string[]): { upload: UploadRecord; file: FileRecord } | Refusal {
    return this.files.complete(uploadId, partIds, Date.now());
  }

  /** Cancels a multipart upload. */
  cancelUpload(uploadId: string): UploadRecord | Refusal {
    return this.files.cancel(uploadId, Date.now());
  }

  private row(id: string): TaskRow | undefined {
    return this.sql.exec<TaskRow>("SELECT * FROM tasks WHERE id = ?", id).toArray()[0];
  }
}
