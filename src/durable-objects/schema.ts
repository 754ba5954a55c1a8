import { ensureArchiveTally } from "../archive/tally";

/**
 * The tenant object's SQLite schema as numbered migrations. Each runs once, in its own
 * transaction, in order; `schema_version` records how far a database has come.
 */
const MIGRATIONS: ((sql: SqlStorage) => void)[] = [
  // 1: the ledger (entries, buckets, reservations), the task index, idempotency, revocations, rate windows.
  (sql) => {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, type TEXT NOT NULL,
        task_id TEXT, key_id TEXT, end_user TEXT, model TEXT, amount_micros INTEGER NOT NULL, reserved_micros INTEGER NOT NULL, reason TEXT);
      CREATE INDEX IF NOT EXISTS entries_at ON entries (at, id);
      CREATE TABLE IF NOT EXISTS buckets (scope TEXT NOT NULL, subject TEXT NOT NULL, period TEXT NOT NULL, window_start INTEGER NOT NULL,
        spent_micros INTEGER NOT NULL, reserved_micros INTEGER NOT NULL, PRIMARY KEY (scope, subject, period, window_start)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS reservations (task_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, end_user TEXT, model TEXT NOT NULL,
        amount_micros INTEGER NOT NULL, buckets TEXT NOT NULL, state TEXT NOT NULL, charged_micros INTEGER, created_at INTEGER NOT NULL, closed_at INTEGER);
      CREATE INDEX IF NOT EXISTS reservations_state ON reservations (state, created_at);
      CREATE TABLE IF NOT EXISTS tasks (task_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, model TEXT NOT NULL, status TEXT NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS tasks_newest ON tasks (created_at, task_id);
      CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status, created_at, task_id);
      CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, body_hash TEXT NOT NULL, task_id TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS idempotency_task ON idempotency (task_id);
      CREATE INDEX IF NOT EXISTS idempotency_age ON idempotency (created_at);
      CREATE TABLE IF NOT EXISTS revoked_keys (key_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS suspension (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS rpm (key_id TEXT PRIMARY KEY, window_start INTEGER NOT NULL, count INTEGER NOT NULL);
    `);
    // Databases made before these columns existed (and before migrations were numbered).
    addColumn(sql, "tasks", "end_user", "TEXT");
    addColumn(sql, "entries", "booked_at", "INTEGER");
  },
  // 2: one owner per tenant. The task's whole record lives in its index row, with the time its next
  //    work falls due; reservations say whether they hold a task or a single request (chat).
  (sql) => {
    addColumn(sql, "tasks", "record", "TEXT");
    addColumn(sql, "tasks", "next_due_at", "INTEGER");
    sql.exec("CREATE INDEX IF NOT EXISTS tasks_due ON tasks (next_due_at) WHERE next_due_at IS NOT NULL");
    sql.exec("CREATE INDEX IF NOT EXISTS tasks_key ON tasks (key_id, end_user, created_at, task_id)");
    addColumn(sql, "reservations", "kind", "TEXT NOT NULL DEFAULT 'task'");
    // A hold's deadline on the object's own clock (its created_at is the caller's, for budget windows).
    addColumn(sql, "reservations", "hold_until", "INTEGER");
    sql.exec("CREATE INDEX IF NOT EXISTS reservations_holds ON reservations (hold_until) WHERE state = 'open' AND kind = 'hold'");
    // Tasks of the per-task objects that migration 2 retires have no record here: they read as failed.
    sql.exec(`UPDATE tasks SET status = 'failed' WHERE record IS NULL AND status NOT IN ('completed', 'failed')`);
    sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
  },
  // 3: budget alerts, one row per scope, period window and threshold (so each is sent once), with its delivery state.
  (sql) => {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS alerts (scope TEXT NOT NULL, subject TEXT NOT NULL, period TEXT NOT NULL, window_start INTEGER NOT NULL,
        threshold INTEGER NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER, last_status INTEGER, PRIMARY KEY (scope, subject, period, window_start, threshold)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS alerts_due ON alerts (next_at) WHERE state = 'pending';
    `);
  },
  // 4: the video archive's stored-bytes tally (SPEC §11).
  (sql) => ensureArchiveTally(sql),
  // 5: RunAPI's cost beside the tenant's price (markup, SPEC §12), on reservations and entries.
  (sql) => {
    addColumn(sql, "reservations", "cost_micros", "INTEGER");
    addColumn(sql, "entries", "cost_micros", "INTEGER");
  },
  // 6: who made each upload (RunAPI's signed ids and upload ids), so only they may go on with it (SPEC §12).
  (sql) => {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS upload_owners (kind TEXT NOT NULL, upload_id TEXT NOT NULL, key_id TEXT NOT NULL, end_user TEXT,
        created_at INTEGER NOT NULL, PRIMARY KEY (kind, upload_id)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS upload_owners_age ON upload_owners (created_at);
    `);
  },
  // 7: a tenant object whose cost stays flat as its history grows (issue 20). Fewer rows written per request:
  //    tasks and reservations keyed by their id alone (WITHOUT ROWID: no second copy of the key), entries without
  //    AUTOINCREMENT's sequence row or an index on `at`, the reservation's bucket list derived instead of stored.
  //    Buckets are kept only for the scope × subject × period a budget or a report asks about (`tracked`), made
  //    from the entries when first asked (so the old rows, one per period for every scope, go). Partial indexes
  //    for what the alarm and admission read; where moved-out history is summed (`ledger_rollup`), where it went
  //    (`entry_chunks`, `archived_tasks`).
  (sql) => {
    sql.exec(`
      CREATE TABLE tasks_v7 (task_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, end_user TEXT, model TEXT NOT NULL, status TEXT NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, record TEXT, next_due_at INTEGER) WITHOUT ROWID;
      INSERT INTO tasks_v7 SELECT task_id, key_id, end_user, model, status, created_at, updated_at, record, next_due_at FROM tasks;
      DROP TABLE tasks;
      ALTER TABLE tasks_v7 RENAME TO tasks;
      CREATE INDEX tasks_newest ON tasks (created_at, task_id);
      CREATE INDEX tasks_status ON tasks (status, created_at, task_id);
      CREATE INDEX tasks_key ON tasks (key_id, end_user, created_at, task_id);
      CREATE INDEX tasks_due ON tasks (next_due_at) WHERE next_due_at IS NOT NULL;

      CREATE TABLE reservations_v7 (task_id TEXT PRIMARY KEY, kind TEXT NOT NULL, key_id TEXT NOT NULL, key_subject TEXT, end_user TEXT,
        model TEXT NOT NULL, amount_micros INTEGER NOT NULL, cost_micros INTEGER, state TEXT NOT NULL, charged_micros INTEGER,
        created_at INTEGER NOT NULL, closed_at INTEGER, hold_until INTEGER) WITHOUT ROWID;
      INSERT INTO reservations_v7 SELECT task_id, kind, key_id, NULL, end_user, model, amount_micros, cost_micros, state, charged_micros,
        created_at, closed_at, hold_until FROM reservations;
      DROP TABLE reservations;
      ALTER TABLE reservations_v7 RENAME TO reservations;
      CREATE INDEX reservations_open_tasks ON reservations (created_at) WHERE state = 'open' AND kind = 'task';
      CREATE INDEX reservations_holds ON reservations (hold_until) WHERE state = 'open' AND kind = 'hold';

      CREATE TABLE entries_v7 (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, booked_at INTEGER NOT NULL, type TEXT NOT NULL, task_id TEXT,
        key_id TEXT, key_subject TEXT, end_user TEXT, model TEXT, amount_micros INTEGER NOT NULL, reserved_micros INTEGER NOT NULL,
        cost_micros INTEGER, reason TEXT);
      INSERT INTO entries_v7 SELECT id, at, COALESCE(booked_at, at), type, task_id, key_id, NULL, end_user, model, amount_micros,
        reserved_micros, cost_micros, reason FROM entries;
      DROP TABLE entries;
      ALTER TABLE entries_v7 RENAME TO entries;
      CREATE INDEX entries_end_user ON entries (end_user, booked_at) WHERE end_user IS NOT NULL;

      DELETE FROM buckets;
      CREATE TABLE tracked (scope TEXT NOT NULL, subject TEXT NOT NULL, period TEXT NOT NULL, since INTEGER NOT NULL,
        PRIMARY KEY (scope, subject, period)) WITHOUT ROWID;
      CREATE TABLE ledger_rollup (scope TEXT NOT NULL, subject TEXT NOT NULL, spent_micros INTEGER NOT NULL, reserved_micros INTEGER NOT NULL,
        PRIMARY KEY (scope, subject)) WITHOUT ROWID;
      CREATE TABLE entry_chunks (last_id INTEGER PRIMARY KEY, first_id INTEGER NOT NULL, min_at INTEGER NOT NULL, max_at INTEGER NOT NULL,
        min_booked INTEGER NOT NULL, max_booked INTEGER NOT NULL, rows INTEGER NOT NULL, object TEXT NOT NULL);
      CREATE TABLE archived_tasks (task_id TEXT PRIMARY KEY, object TEXT NOT NULL, tenant_id TEXT NOT NULL, key_id TEXT NOT NULL, end_user TEXT,
        upstream_id TEXT) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS rpm_age ON rpm (window_start);
      DELETE FROM meta WHERE key = 'cleanup_at';
    `);
  },
  // 8: idempotency records keyed by their key alone (WITHOUT ROWID) and found by key when forgotten (the task
  //    record keeps it), so a create writes 2 rows for its key, sent or derived, not 4.
  (sql) => {
    sql.exec(`
      CREATE TABLE idempotency_v8 (key TEXT PRIMARY KEY, body_hash TEXT NOT NULL, task_id TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO idempotency_v8 SELECT key, body_hash, task_id, created_at FROM idempotency;
      DROP TABLE idempotency;
      ALTER TABLE idempotency_v8 RENAME TO idempotency;
      CREATE INDEX idempotency_age ON idempotency (created_at);
    `);
  },
  // 9: the tenant's lease on RunAPI's capacity (SPEC §14), one row; its queue is the task rows with status 'queued'.
  (sql) => {
    sql.exec("CREATE TABLE IF NOT EXISTS capacity_lease (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)");
  },
  // 10: per-minute windows live in the object's memory (LedgerStore): their table goes.
  (sql) => {
    sql.exec("DROP TABLE IF EXISTS rpm");
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database up to `SCHEMA_VERSION` (tests: to `upTo`); safe on a new or an up-to-date database. */
export function migrate(storage: DurableObjectStorage, upTo = MIGRATIONS.length): void {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
  const current = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0]?.version ?? 0;
  for (let v = current; v < upTo; v++) {
    storage.transactionSync(() => {
      MIGRATIONS[v]!(sql);
      sql.exec("INSERT INTO schema_version (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version", v + 1);
    });
  }
}

function addColumn(sql: SqlStorage, table: string, column: string, type: string): void {
  const has = sql
    .exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
    .toArray()
    .some((c) => c.name === column);
  if (!has) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}
