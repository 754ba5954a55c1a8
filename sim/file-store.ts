/**
 * The simulator object's uploaded files (`/api/v1/files…`) and multipart uploads (`/v1/uploads…`). Bytes are
 * kept in 1 MiB rows (a SQLite value holds at most 2 MB). Results are plain values: an error thrown across
 * the object's RPC boundary would lose its kind.
 */

/** The most bytes one file may have (RunAPI's limit as the simulator plays it). */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
/** How long an uploaded file is kept. */
export const FILE_TTL_MS = 72 * 3600 * 1000;
/** How long a multipart upload may stay open. */
export const UPLOAD_TTL_MS = 3600 * 1000;

const CHUNK = 1024 * 1024;

/** A stored file. */
export type FileRecord = {
  id: string;
  file_name: string;
  mime_type: string;
  size_bytes: number;
  created_at: number;
  expires_at: number;
  state: "prepared" | "uploaded" | "ready";
  checksum: string | null;
};

/** A multipart upload, as the database holds it. */
export type UploadRecord = {
  id: string;
  filename: string;
  mime_type: string;
  bytes: number;
  purpose: string;
  status: "pending" | "completed" | "cancelled";
  created_at: number;
  expires_at: number;
  file_id: string | null;
};

/** An operation's refusal: its HTTP status and message. */
export interface Refusal {
  refused: { status: 400 | 404 | 409 | 413; message: string };
}

const refuse = (status: Refusal["refused"]["status"], message: string): Refusal => ({ refused: { status, message } });

/** Files and uploads in the simulator object's SQLite. */
export class FileStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, file_name TEXT, mime_type TEXT, size_bytes INTEGER, created_at INTEGER,
        expires_at INTEGER, state TEXT, checksum TEXT);
      CREATE TABLE IF NOT EXISTS blobs (owner TEXT, seq INTEGER, data BLOB, PRIMARY KEY (owner, seq));
      CREATE TABLE IF NOT EXISTS uploads (id TEXT PRIMARY KEY, filename TEXT, mime_type TEXT, bytes INTEGER, purpose TEXT, status TEXT,
        created_at INTEGER, expires_at INTEGER, file_id TEXT);
      CREATE TABLE IF NOT EXISTS upload_parts (id TEXT PRIMARY KEY, upload_id TEXT, size INTEGER, created_at INTEGER);
    `);
  }

  /** Stores a whole file at once (`POST /api/v1/files`). */
  put(fileName: string, mimeType: string, bytes: Uint8Array, now: number): FileRecord {
    const id = crypto.randomUUID();
    this.insertFile({
      id,
      file_name: fileName,
      mime_type: mimeType,
      size_bytes: bytes.length,
      created_at: now,
      expires_at: now + FILE_TTL_MS,
      state: "ready",
      checksum: null,
    });
    this.writeBlob(id, bytes);
    return this.file(id)!;
  }

  /** Reserves a direct upload (`POST /api/v1/files/prepare`); its id is the signed id the bytes are PUT under. */
  prepare(fileName: string, mimeType: string, size: number, checksum: string | null, now: number): FileRecord {
    const id = crypto.randomUUID();
    this.insertFile({
      id,
      file_name: fileName,
      mime_type: mimeType,
      size_bytes: size,
      created_at: now,
      expires_at: now + FILE_TTL_MS,
      state: "prepared",
      checksum,
    });
    return this.file(id)!;
  }

  /** Takes the bytes of a prepared upload: their length must be the one announced, their MD5 the checksum given. */
  async receive(id: string, bytes: Uint8Array): Promise<FileRecord | Refusal> {
    const file = this.file(id);
    if (file?.state !== "prepared") return refuse(404, "No upload is waiting under this id");
    if (bytes.length !== file.size_bytes) return refuse(400, `Expected ${file.size_bytes} bytes, got ${bytes.length}`);
    if (file.checksum !== null) {
      const md5 = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("MD5", bytes))));
      if (md5 !== file.checksum) return refuse(400, "The bytes do not match the checksum given to prepare");
    }
    this.writeBlob(id, bytes);
    this.sql.exec("UPDATE files SET state = 'uploaded' WHERE id = ? AND state = 'prepared'", id);
    return this.file(id)!;
  }

  /** Confirms a direct upload whose bytes arrived (`POST /api/v1/files/confirm`). */
  confirm(id: string): FileRecord | Refusal {
    const file = this.file(id);
    if (!file) return refuse(404, "Unknown signed_id");
    if (file.state === "prepared") return refuse(409, "The file's bytes have not been uploaded yet");
    this.sql.exec("UPDATE files SET state = 'ready' WHERE id = ?", id);
    return this.file(id)!;
  }

  /** A file and its bytes, when it is ready and has not expired. */
  read(id: string, now: number): { file: FileRecord; bytes: Uint8Array } | null {
    const file = this.file(id);
    if (file?.state !== "ready" || file.expires_at <= now) return null;
    return { file, bytes: this.readBlob(id) };
  }

  /** Opens a multipart upload (`POST /v1/uploads`). */
  createUpload(filename: string, mimeType: string, bytes: number, purpose: string, now: number): UploadRecord {
    const id = `upload_${crypto.randomUUID().replaceAll("-", "")}`;
    this.sql.exec(
      "INSERT INTO uploads (id, filename, mime_type, bytes, purpose, status, created_at, expires_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
      id,
      filename,
      mimeType,
      bytes,
      purpose,
      now,
      now + UPLOAD_TTL_MS,
    );
    return this.upload(id)!;
  }

  /** Adds a part to an open upload; the parts together may not exceed the announced size. */
  addPart(uploadId: string, bytes: Uint8Array, now: number): { id: string; upload_id: string; created_at: number } | Refusal {
    const upload = this.open(uploadId, now);
    if ("refused" in upload) return upload;
    const held = this.sql.exec<{ n: number }>("SELECT COALESCE(SUM(size), 0) AS n FROM upload_parts WHERE upload_id = ?", uploadId).one().n;
    if (held + bytes.length > upload.bytes) return refuse(413, `The parts would exceed the upload's ${upload.bytes} bytes`);
    const id = `part_${crypto.randomUUID().replaceAll("-", "")}`;
    this.sql.exec("INSERT INTO upload_parts (id, upload_id, size, created_at) VALUES (?, ?, ?, ?)", id, uploadId, bytes.length, now);
    this.writeBlob(id, bytes);
    return { id, upload_id: uploadId, created_at: now };
  }

  /** Completes an upload from its parts, in the order given; their sizes must add up to the announced size. */
  complete(uploadId: string, partIds: string[], now: number): { upload: UploadRecord; file: FileRecord } | Refusal {
    const upload = this.open(uploadId, now);
    if ("refused" in upload) return upload;
    const parts = partIds.map(
      (id) => this.sql.exec<{ size: number }>("SELECT size FROM upload_parts WHERE id = ? AND upload_id = ?", id, uploadId).toArray()[0],
    );
    if (parts.some((p) => p === undefined) || new Set(partIds).size !== partIds.length) return refuse(400, "part_ids must name this upload's parts, each once");
    const total = parts.reduce((n, p) => n + p!.size, 0);
    if (total !== upload.bytes) return refuse(400, `The parts hold ${total} bytes; the upload announced ${upload.bytes}`);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const id of partIds) {
      const part = this.readBlob(id);
      bytes.set(part, at);
      at += part.length;
    }
    const file = this.put(upload.filename, upload.mime_type, bytes, now);
    this.sql.exec("UPDATE uploads SET status = 'completed', file_id = ? WHERE id = ?", file.id, uploadId);
    return { upload: this.upload(uploadId)!, file };
  }

  /** Cancels an open upload. */
  cancel(uploadId: string, now: number): UploadRecord | Refusal {
    const upload = this.open(uploadId, now);
    if ("refused" in upload) return upload;
    this.sql.exec("UPDATE uploads SET status = 'cancelled' WHERE id = ?", uploadId);
    return this.upload(uploadId)!;
  }

  private open(uploadId: string, now: number): UploadRecord | Refusal {
    const upload = this.upload(uploadId);
    if (!upload) return refuse(404, `No upload ${uploadId}`);
    if (upload.status !== "pending") return refuse(409, `The upload is ${upload.status}`);
    if (upload.expires_at <= now) return refuse(409, "The upload has expired");
    return upload;
  }

  private upload(id: string): UploadRecord | undefined {
    return this.sql.exec<UploadRecord>("SELECT * FROM uploads WHERE id = ?", id).toArray()[0];
  }

  private file(id: string): FileRecord | undefined {
    return this.sql.exec<FileRecord>("SELECT * FROM files WHERE id = ?", id).toArray()[0];
  }

  private insertFile(f: FileRecord): void {
    this.sql.exec(
      "INSERT INTO files (id, file_name, mime_type, size_bytes, created_at, expires_at, state, checksum) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      f.id,
      f.file_name,
      f.mime_type,
      f.size_bytes,
      f.created_at,
      f.expires_at,
      f.state,
      f.checksum,
    );
  }

  private writeBlob(owner: string, bytes: Uint8Array): void {
    this.sql.exec("DELETE FROM blobs WHERE owner = ?", owner);
    for (let seq = 0; seq * CHUNK < bytes.length; seq++) {
      this.sql.exec("INSERT INTO blobs (owner, seq, data) VALUES (?, ?, ?)", owner, seq, bytes.slice(seq * CHUNK, (seq + 1) * CHUNK).buffer);
    }
  }

  private readBlob(owner: string): Uint8Array {
    const rows = this.sql.exec<{ data: ArrayBuffer }>("SELECT data FROM blobs WHERE owner = ? ORDER BY seq", owner).toArray();
    const out = new Uint8Array(rows.reduce((n, r) => n + r.data.byteLength, 0));
    let at = 0;
    for (const r of rows) {
      out.set(new Uint8Array(r.data), at);
      at += r.data.byteLength;
    }
    return out;
  }
}
