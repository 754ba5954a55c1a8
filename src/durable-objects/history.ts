import { entrySubjects, entryEffect, type BucketTotals, type LedgerEntry } from "../domain/ledger";
import { DAY_MS, periodWindow } from "../domain/periods";
import { isTerminal, type TaskStatus } from "../domain/task-state";
import { upgradeRecord, type TaskRecord } from "../domain/task-record";
import { entryLimit, entryView, hotEntries, hotMargins, type EntryQuery, type EntryRow, type Margin } from "./ledger-entries";
import type { LedgerStore } from "./ledger-store";
import { TASK_SQL, type ArchivedTask } from "./task-store";

/** The alarm's queries of this module, named for the query-plan test. */
export const HISTORY_SQL = {
  oldestEntries: "SELECT at FROM entries WHERE id > ? ORDER BY id LIMIT 2",
  oldestTask: "SELECT MIN(created_at) AS t FROM tasks WHERE created_at >= 0",
  chunksAfter: "SELECT last_id, min_at, max_at, min_booked, max_booked, object FROM entry_chunks WHERE last_id > ? ORDER BY last_id",
} as const;

/** How often the alarm looks for history to move out. */
const MOVE_EVERY_MS = 3_600_000;
/** Rows read per batch, and the most one alarm moves before it lets the next alarm go on. */
const ENTRY_BATCH = 2_000;
const TASK_BATCH = 500;
const BATCHES_PER_RUN = 10;

/**
 * History that leaves (issue 20): ledger entries and finished tasks older than the hot window (LEDGER_HOT_DAYS, and
 * never a current day, week or month window: budget periods stay exact) move from the tenant object's SQLite into R2,
 * as gzip-compressed NDJSON per tenant per UTC day. The object keeps a small index of where each went: the entries'
 * id ranges (so the export pages on with one cursor across R2 and SQLite, byte for byte as before), each moved
 * task's object (a task read then costs one R2 read), and per subject the sums of the entries that left (so a
 * `total` budget first asked for later is still exact). Closed reservations go with their closing entries.
 */
export class LedgerHistory {
  private movedAt = 0;
  /** When history may next move, as last looked up (after the move-out run at `lookedAt`). */
  private next: { at: number | null; lookedAt: number } | null = null;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly ledger: LedgerStore,
    private readonly bucket: R2Bucket | undefined,
    private readonly prefix: string,
    private readonly hotMs: () => number,
  ) {}

  /** Reads how far history has moved (in the constructor's blockConcurrencyWhile). */
  load(): void {
    const row = this.storage.sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'history_cutoff'").toArray()[0];
    this.ledger.buckets.historyCutoff = row?.value ?? 0;
  }

  /** Moves out what is older than the hot window, at most once an hour; true when more is left for the next alarm. */
  async moveOut(now: number): Promise<boolean> {
    if (!this.bucket || now - this.movedAt < MOVE_EVERY_MS) return false;
    const cutoff = Math.min(now - this.hotMs(), periodWindow("week", now).start, periodWindow("month", now).start);
    let more = await this.batches(() => this.moveEntries(cutoff));
    if (!more) more = await this.batches(() => this.moveTasks(cutoff));
    if (cutoff - this.ledger.buckets.historyCutoff >= DAY_MS) {
      this.storage.transactionSync(() => {
        this.ledger.buckets.forgetBefore(cutoff);
        this.storage.sql.exec("INSERT INTO meta (key, value) VALUES ('history_cutoff', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", cutoff);
      });
    }
    if (!more) this.movedAt = now;
    return more;
  }

  /** Runs `move` until it has nothing more or the run's batches are spent; true when more is left. */
  private async batches(move: () => Promise<boolean>): Promise<boolean> {
    for (let i = 0; i < BATCHES_PER_RUN; i++) if (!(await move())) return false;
    return true;
  }

  /** When the oldest entry or task may move out (the alarm comes back then), or null with nothing that will yet. */
  nextMove(): number | null {
    if (!this.bucket) return null;
    // The oldest rows change only when history moves: looked up again at most once an hour, so an alarm reads
    // no index of the big tables (its cost stays flat as history grows).
    if (this.next && this.next.lookedAt === this.movedAt) return this.next.at;
    const at = this.oldest();
    this.next = { at, lookedAt: this.movedAt };
    return at;
  }

  private oldest(): number | null {
    const sql = this.storage.sql;
    // The newest entry never moves (ids are never reused): only an entry before it counts.
    const [oldest, second] = sql.exec<{ at: number }>(HISTORY_SQL.oldestEntries, 0).toArray();
    const task = sql.exec<{ t: number | null }>(HISTORY_SQL.oldestTask).one().t;
    const at = Math.min(second && oldest ? oldest.at : Number.POSITIVE_INFINITY, task ?? Number.POSITIVE_INFINITY);
    return at === Number.POSITIVE_INFINITY ? null : Math.max(at + this.hotMs(), this.movedAt + MOVE_EVERY_MS);
  }

  /** One page of entries in append order, those moved out first; see `TenantLedger.entries`. */
  async entries(opts: EntryQuery): Promise<{ entries: LedgerEntry[]; next_after_id: number | null }> {
    const limit = entryLimit(opts.limit);
    const [from, to] = [opts.from ?? 0, opts.to ?? Number.MAX_SAFE_INTEGER];
    const time = (r: { at: number; booked_at: number }) => (opts.by === "booked_at" ? r.booked_at : r.at);
    const page: EntryRow[] = [];
    let afterId = opts.afterId ?? 0;
    while (page.length <= limit) {
      // The next chunk that moved out, looked up right before the hot rows are read (no await between): entries that
      // move meanwhile are read from their chunk, never skipped.
      const chunk = this.chunksAfter(afterId)[0];
      if (!chunk) {
        page.push(...hotEntries(this.storage.sql, { ...opts, afterId }, limit + 1 - page.length));
        break;
      }
      const [lo, hi] = opts.by === "booked_at" ? [chunk.min_booked, chunk.max_booked] : [chunk.min_at, chunk.max_at];
      if (hi >= from && lo < to) {
        for (const r of await this.read<EntryRow>(chunk.object)) if (r.id > afterId && time(r) >= from && time(r) < to && page.length <= limit) page.push(r);
      }
      afterId = Math.max(afterId, chunk.last_id);
    }
    const shown = page.slice(0, limit);
    return { entries: shown.map(entryView), next_after_id: page.length > limit ? shown[shown.length - 1]!.id : null };
  }

  /** Charged and RunAPI's cost per model over settled entries in `from` ≤ at < `to`, those moved out included. */
  async margins(from: number, to: number): Promise<Margin[]> {
    const sums = new Map<string, Margin>();
    let afterId = 0;
    for (let chunk = this.chunksAfter(afterId)[0]; chunk; chunk = this.chunksAfter(afterId)[0]) {
      afterId = chunk.last_id;
      if (chunk.max_at < from || chunk.min_at >= to) continue;
      for (const r of await this.read<EntryRow>(chunk.object)) {
        if (r.type === "settle" && r.at >= from && r.at < to)
          addMargin(sums, { model: r.model ?? "", requests: 1, charged_micros: r.amount_micros, cost_micros: r.cost_micros ?? r.amount_micros });
      }
    }
    // No chunk left to read, and no await since that was checked: the hot rows are exactly the rest.
    for (const m of hotMargins(this.storage.sql, from, to)) addMargin(sums, m);
    return [...sums.values()].sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  }

  /** A task whose record moved out: one R2 read; undefined when it never existed here. */
  async task(taskId: string): Promise<TaskRecord | undefined> {
    const where = this.storage.sql.exec<ArchivedTask>(TASK_SQL.archived, taskId).toArray()[0];
    if (!where) return undefined;
    const found = (await this.read<TaskRecord>(where.object)).find((t) => t.id === taskId);
    return found ? upgradeRecord(found) : undefined;
  }

  private chunksAfter(afterId: number): { last_id: number; min_at: number; max_at: number; min_booked: number; max_booked: number; object: string }[] {
    return this.storage.sql
      .exec<{ last_id: number; min_at: number; max_at: number; min_booked: number; max_booked: number; object: string }>(HISTORY_SQL.chunksAfter, afterId)
      .toArray();
  }

  /** Moves the oldest entries (an id prefix, never the newest entry: ids are never reused) older than `cutoff`. */
  private async moveEntries(cutoff: number): Promise<boolean> {
    const sql = this.storage.sql;
    const rows = sql.exec<EntryRow>("SELECT * FROM entries WHERE id < (SELECT MAX(id) FROM entries) ORDER BY id LIMIT ?", ENTRY_BATCH).toArray();
    const old = rows.slice(
      0,
      prefixLength(rows, (r) => r.at < cutoff),
    );
    if (!old.length) return false;
    const runs = byDay(old, (r) => r.at);
    const chunks: { rows: EntryRow[]; object: string }[] = [];
    for (const run of runs) {
      const object = `${this.prefix}/entries/${dayName(run[0]!.at)}/${run[0]!.id}-${run[run.length - 1]!.id}.ndjson.gz`;
      await this.write(object, run);
      chunks.push({ rows: run, object });
    }
    this.storage.transactionSync(() => {
      const rollup = new Map<string, BucketTotals & { scope: string; subject: string }>();
      for (const { rows: run, object } of chunks) {
        const ats = run.map((r) => r.at);
        const booked = run.map((r) => r.booked_at);
        sql.exec(
          "INSERT INTO entry_chunks (last_id, first_id, min_at, max_at, min_booked, max_booked, rows, object) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          run[run.length - 1]!.id,
          run[0]!.id,
          Math.min(...ats),
          Math.max(...ats),
          Math.min(...booked),
          Math.max(...booked),
          run.length,
          object,
        );
        for (const r of run) {
          const effect = entryEffect(r);
          for (const s of entrySubjects(r)) {
            const key = `${s.scope}|${s.subject}`;
            const t = rollup.get(key) ?? { ...s, spent_micros: 0, reserved_micros: 0 };
            t.spent_micros += effect.spent_micros;
            t.reserved_micros += effect.reserved_micros;
            rollup.set(key, t);
          }
          // A reservation is history once its closing entry is.
          if (r.type !== "reserve" && r.task_id !== null) sql.exec("DELETE FROM reservations WHERE task_id = ? AND state != 'open'", r.task_id);
        }
      }
      for (const t of rollup.values()) {
        sql.exec(
          `INSERT INTO ledger_rollup (scope, subject, spent_micros, reserved_micros) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET
           spent_micros = spent_micros + excluded.spent_micros, reserved_micros = reserved_micros + excluded.reserved_micros`,
          t.scope,
          t.subject,
          t.spent_micros,
          t.reserved_micros,
        );
      }
      sql.exec("DELETE FROM entries WHERE id <= ?", old[old.length - 1]!.id);
    });
    return old.length === rows.length && rows.length === ENTRY_BATCH;
  }

  /** Moves finished tasks created before `cutoff` with no work left (webhook delivered, outputs copied), oldest first. */
  private async moveTasks(cutoff: number): Promise<boolean> {
    const sql = this.storage.sql;
    const rows = sql
      .exec<{ record: string; status: string; next_due_at: number | null }>(
        "SELECT record, status, next_due_at FROM tasks WHERE created_at < ? ORDER BY created_at LIMIT ?",
        cutoff,
        TASK_BATCH,
      )
      .toArray();
    const done = rows.filter((r) => r.record && isTerminal(r.status as TaskStatus) && r.next_due_at === null).map((r) => JSON.parse(r.record) as TaskRecord);
    if (!done.length) return false;
    const placed: { task: TaskRecord; object: string }[] = [];
    for (const run of byDay(done, (t) => t.created_at)) {
      // A name of its own: a task that changed while this was written stays, and may lead a later run's object.
      const object = `${this.prefix}/tasks/${dayName(run[0]!.created_at)}/${crypto.randomUUID()}.ndjson.gz`;
      await this.write(object, run);
      for (const task of run) placed.push({ task, object });
    }
    this.storage.transactionSync(() => {
      for (const { task, object } of placed) {
        // Changed while its copy was written (a late callback): it stays, and moves next time.
        if (sql.exec("DELETE FROM tasks WHERE task_id = ? AND updated_at = ? AND next_due_at IS NULL", task.id, task.updated_at).rowsWritten === 0) continue;
        sql.exec(
          "INSERT OR REPLACE INTO archived_tasks (task_id, object, tenant_id, key_id, end_user, upstream_id) VALUES (?, ?, ?, ?, ?, ?)",
          task.id,
          object,
          task.tenant_id,
          task.key_id,
          task.end_user,
          task.upstream_id,
        );
      }
    });
    return rows.length === TASK_BATCH;
  }

  private async write(object: string, rows: unknown[]): Promise<void> {
    const ndjson = `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;
    const gz = await new Response(new Blob([ndjson]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
    await this.bucket!.put(object, gz, { httpMetadata: { contentType: "application/x-ndjson", contentEncoding: "gzip" } });
  }

  private async read<T>(object: string): Promise<T[]> {
    const found = await this.bucket?.get(object);
    if (!found) throw new Error(`ledger history object missing: ${object}`);
    const text = await new Response(found.body.pipeThrough(new DecompressionStream("gzip"))).text();
    return text
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as T);
  }
}

function addMargin(sums: Map<string, Margin>, m: Margin): void {
  const was = sums.get(m.model);
  sums.set(
    m.model,
    was
      ? {
          model: m.model,
          requests: was.requests + m.requests,
          charged_micros: was.charged_micros + m.charged_micros,
          cost_micros: was.cost_micros + m.cost_micros,
        }
      : { ...m },
  );
}

/** How many leading items pass `test`. */
function prefixLength<T>(items: T[], test: (item: T) => boolean): number {
  const i = items.findIndex((x) => !test(x));
  return i === -1 ? items.length : i;
}

/** Consecutive runs of items on the same UTC day. */
function byDay<T>(items: T[], at: (item: T) => number): T[][] {
  const runs: T[][] = [];
  for (const item of items) {
    const last = runs[runs.length - 1];
    if (last && Math.floor(at(last[0]!) / DAY_MS) === Math.floor(at(item) / DAY_MS)) last.push(item);
    else runs.push([item]);
  }
  return runs;
}

function dayName(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}
