import { closeSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { LocalLockTable } from '../local-lock.js';
import type { HALock, StorageBackend, TxOp } from '../storage.js';

interface PendingWrite {
  readonly ops: readonly TxOp[];
  resolve(): void;
  reject(e: unknown): void;
}

/**
 * How long the first writer of a batch waits at most for more to join it, and how many writers
 * one commit carries at most. A lone writer waits one turn of the event loop, not this long.
 */
const MAX_BATCH_WAIT_MS = 4;
const MAX_BATCH = 512;

export interface SqliteOptions {
  readonly path: string;
}

/**
 * The embedded default: one SQLite file in WAL mode with synchronous=FULL, so an acknowledged
 * write has been fsynced. Writes are committed together (group commit): a batch stays open while
 * each turn of the event loop brings more writers (up to MAX_BATCH_WAIT_MS), so one fsync
 * acknowledges many writers, which is what lets durable writes outrun the disk's commit rate. The file is opened with an exclusive lock, so a second
 * server pointed at the same file fails at start instead of serving a diverging copy.
 */
/**
 * Open the file for exclusive use. It is created mode 0600 (SQLite gives its WAL the file's
 * mode), and the failures a user meets at start say what they are about.
 */
function openDatabase(path: string): Database.Database {
  try {
    closeSync(openSync(path, 'a', 0o600));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`cannot create the storage file ${path}: the directory ${dirname(path)} does not exist`);
    if (code === 'EACCES') throw new Error(`cannot open the storage file ${path}: permission denied`);
    throw new Error(`cannot open the storage file ${path}: ${code ?? 'error'}`);
  }
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (e) {
    throw new Error(`cannot open the storage file ${path}: ${(e as Error).message}`);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('busy_timeout = 0');
    db.exec('CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID');
    // Take the exclusive lock now: a write transaction holds it until close.
    db.exec('BEGIN IMMEDIATE; COMMIT');
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
      throw new Error(`another coffer server (or another program) holds ${path}: only one server may use a storage file`);
    }
    throw new Error(`cannot use the storage file ${path}: ${(e as Error).message}`);
  }
  return db;
}

export class SqliteStorage implements StorageBackend {
  readonly #db: Database.Database;
  readonly #locks = new LocalLockTable();
  readonly #stmt: {
    get: Database.Statement<[string], { value: Buffer }>;
    put: Database.Statement<[string, Uint8Array]>;
    del: Database.Statement<[string]>;
    range: Database.Statement<[string, string], { key: string }>;
  };
  readonly #commit: (batch: readonly PendingWrite[]) => void;
  #pending: PendingWrite[] = [];
  #flushScheduled = false;
  /** When the pending batch began, and how many writers the last look saw in it. */
  #batchStart = 0;
  #seen = 0;
  #closed = false;

  constructor(opts: SqliteOptions) {
    this.#db = openDatabase(opts.path);
    this.#stmt = {
      get: this.#db.prepare('SELECT value FROM entries WHERE key = ?'),
      put: this.#db.prepare('INSERT INTO entries (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      del: this.#db.prepare('DELETE FROM entries WHERE key = ?'),
      range: this.#db.prepare('SELECT key FROM entries WHERE key >= ? AND key < ? ORDER BY key'),
    };
    this.#commit = this.#db.transaction((batch: readonly PendingWrite[]) => {
      for (const write of batch) {
        for (const op of write.ops) {
          if (op.op === 'put') this.#stmt.put.run(op.key, op.value);
          else this.#stmt.del.run(op.key);
        }
      }
    });
  }

  async get(key: string): Promise<Uint8Array | null> {
    this.#assertOpen();
    const row = this.#stmt.get.get(key);
    return row ? new Uint8Array(row.value.buffer, row.value.byteOffset, row.value.byteLength) : null;
  }

  put(key: string, value: Uint8Array): Promise<void> {
    return this.#enqueue([{ op: 'put', key, value }]);
  }

  delete(key: string): Promise<void> {
    return this.#enqueue([{ op: 'delete', key }]);
  }

  transaction(ops: readonly TxOp[]): Promise<void> {
    return ops.length === 0 ? Promise.resolve() : this.#enqueue(ops);
  }

  /**
   * The immediate children of prefix, reading each folder's first key only: the index is scanned
   * from the start of the prefix, and past a folder the scan resumes after its last possible key.
   * A million keys under one folder cost one row to list that folder's parent, not a million.
   */
  async list(prefix: string): Promise<string[]> {
    this.#assertOpen();
    const end = `${prefix}\u{10FFFF}`;
    const out: string[] = [];
    let from = prefix;
    scan: for (;;) {
      for (const row of this.#stmt.range.iterate(from, end)) {
        const rest = row.key.slice(prefix.length);
        const slash = rest.indexOf('/');
        if (slash === -1) {
          out.push(rest);
          continue;
        }
        out.push(rest.slice(0, slash + 1));
        // "0" follows "/" in byte order: the first key after everything in this folder.
        from = `${prefix}${rest.slice(0, slash)}0`;
        continue scan;
      }
      return out;
    }
  }

  lock(key: string, holder: string): HALock {
    return this.#locks.lock(key, holder);
  }

  async leader(key: string): Promise<string | null> {
    return this.#locks.leader(key);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    this.#locks.abortAll();
    this.#db.close();
  }

  #enqueue(ops: readonly TxOp[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('storage is closed'));
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ ops, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        this.#batchStart = performance.now();
        this.#seen = 0;
        setImmediate(() => this.#settle());
      }
    });
  }

  /**
   * Commit once writes stop arriving: while a turn of the event loop brought more writers (and
   * the first has waited less than MAX_BATCH_WAIT_MS), wait one more turn, so one fsync carries
   * every writer that was on its way. Writers are acknowledged only after the commit.
   */
  #settle(): void {
    const n = this.#pending.length;
    if (n > this.#seen && n < MAX_BATCH && performance.now() - this.#batchStart < MAX_BATCH_WAIT_MS) {
      this.#seen = n;
      setImmediate(() => this.#settle());
      return;
    }
    this.#flush();
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    try {
      this.#commit(batch);
    } catch (e) {
      for (const w of batch) w.reject(e);
      return;
    }
    for (const w of batch) w.resolve();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('storage is closed');
  }
}
