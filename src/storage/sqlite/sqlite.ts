import { randomUUID } from 'node:crypto';
import { closeSync, fstatSync, fsync, fsyncSync, openSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { LocalLockTable } from '../local-lock.js';
import type { HALock, StorageBackend, StorageEntry, TxOp } from '../storage.js';

interface PendingWrite {
  readonly ops: readonly TxOp[];
  /** Remove every entry first (a restore): `ops` are then the whole new content. */
  readonly replace?: true;
  resolve(): void;
  reject(e: unknown): void;
}

/**
 * How long the first writer of a batch waits at most for more to join it, and how many writers
 * one commit carries at most. A lone writer waits one turn of the event loop, not this long.
 */
const MAX_BATCH_WAIT_MS = 4;
const MAX_BATCH = 512;
/** Rows a snapshot reads between turns of the event loop. */
const SNAPSHOT_ROWS_PER_TURN = 2000;

export interface SqliteOptions {
  readonly path: string;
}

/**
 * The table: keys in a unique index, values in a rowid table. New rows append at the end of the
 * table, so a commit of many writers dirties few table pages however random their keys (token
 * hashes are); with the values inside the key's B-tree (WITHOUT ROWID, the layout of files
 * written before 2026-12), every random key dirtied a page of its own and a commit cost about
 * 60% more. An older file is converted at open, in one transaction.
 */
function ensureLayout(db: Database.Database): void {
  const table = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'entries'").get() as { sql: string } | undefined;
  const create = 'CREATE TABLE entries (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, value BLOB NOT NULL)';
  if (!table) {
    db.exec(create);
    return;
  }
  if (!/WITHOUT ROWID/i.test(table.sql)) return;
  db.transaction(() => {
    db.exec(create.replace('TABLE entries', 'TABLE entries_rowid'));
    db.exec('INSERT INTO entries_rowid (key, value) SELECT key, value FROM entries ORDER BY key');
    db.exec('DROP TABLE entries');
    db.exec('ALTER TABLE entries_rowid RENAME TO entries');
  })();
}

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
    if (db.pragma('journal_mode = WAL', { simple: true }) !== 'wal') throw new Error('SQLite would not use a write-ahead log for it');
    // Durable at acknowledgement all the same: coffer fsyncs the WAL itself (see SqliteStorage).
    db.pragma('synchronous = NORMAL');
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('busy_timeout = 0');
    ensureLayout(db);
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

/**
 * The embedded default: one SQLite file in WAL mode, where an acknowledged write has been
 * fsynced. Writes are committed together (group commit): a batch stays open while each turn of
 * the event loop brings more writers (up to MAX_BATCH_WAIT_MS), so one fsync acknowledges many
 * writers, which is what lets durable writes outrun the disk's commit rate.
 *
 * The fsync runs off the event loop. SQLite runs with synchronous=NORMAL, which keeps the WAL
 * consistent but does not sync it at commit; after each commit coffer fsyncs the WAL file on
 * libuv's thread pool and acknowledges the batch's writers only when that returns — the
 * guarantee synchronous=FULL gives, without stopping every other request for the disk.
 * Until then the batch's keys are not durable, and a read or list that touches one waits for
 * the fsync: nothing is served that a power cut could take back. SQLite itself syncs the WAL
 * before each checkpoint and the database after it, as it does in NORMAL mode.
 *
 * The file is opened with an exclusive lock, so a second server pointed at the same file fails
 * at start instead of serving a diverging copy.
 */
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
  readonly #path: string;
  readonly #walPath: string;
  /** The WAL, opened at the first commit (SQLite creates it), and its inode. */
  #wal: { fd: number; ino: number } | null = null;
  /** Keys committed whose fsync has not returned, with the promise of its return. */
  readonly #undurable = new Map<string, Promise<void>>();
  readonly #syncing = new Set<Promise<void>>();
  /** A restore whose fsync has not returned: until it does, every read waits for it. */
  #undurableAll: Promise<void> | null = null;
  /** Set when an fsync fails: the page cache can no longer be trusted, so nothing more is served. */
  #failed: Error | null = null;

  constructor(opts: SqliteOptions) {
    this.#db = openDatabase(opts.path);
    this.#path = opts.path;
    this.#walPath = `${opts.path}-wal`;
    this.#stmt = {
      get: this.#db.prepare('SELECT value FROM entries WHERE key = ?'),
      put: this.#db.prepare('INSERT INTO entries (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      del: this.#db.prepare('DELETE FROM entries WHERE key = ?'),
      range: this.#db.prepare('SELECT key FROM entries WHERE key >= ? AND key < ? ORDER BY key'),
    };
    this.#commit = this.#db.transaction((batch: readonly PendingWrite[]) => {
      for (const write of batch) {
        if (write.replace) this.#db.exec('DELETE FROM entries');
        for (const op of write.ops) {
          if (op.op === 'put') this.#stmt.put.run(op.key, op.value);
          else this.#stmt.del.run(op.key);
        }
      }
    });
  }

  async get(key: string): Promise<Uint8Array | null> {
    this.#assertOpen();
    if (this.#undurableAll) await this.#undurableAll;
    const undurable = this.#undurable.get(key);
    if (undurable) await undurable;
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
    if (this.#undurableAll) await this.#undurableAll;
    if (this.#undurable.size) {
      const waits = new Set<Promise<void>>();
      for (const [key, p] of this.#undurable) if (key.startsWith(prefix)) waits.add(p);
      await Promise.all(waits);
    }
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

  /**
   * SQLite's online backup copies the file (in steps, between which the server goes on; a write
   * this connection makes meanwhile is carried into the copy) to a scratch file beside it, which
   * is then read in key order a few thousand rows per turn of the event loop, and removed.
   */
  async *snapshot(): AsyncIterable<StorageEntry> {
    this.#assertOpen();
    const scratch = join(dirname(this.#path), `.coffer-snapshot-${randomUUID()}.db`);
    // Created 0600 before SQLite opens it: the copy holds the same ciphertext as the file.
    closeSync(openSync(scratch, 'wx', 0o600));
    try {
      await this.#db.backup(scratch);
      const copy = new Database(scratch, { readonly: true });
      try {
        let n = 0;
        for (const row of copy.prepare<[], { key: string; value: Buffer }>('SELECT key, value FROM entries ORDER BY key').iterate()) {
          yield [row.key, new Uint8Array(row.value.buffer, row.value.byteOffset, row.value.byteLength)];
          if (++n % SNAPSHOT_ROWS_PER_TURN === 0) await new Promise((r) => setImmediate(r));
        }
      } finally {
        copy.close();
      }
    } finally {
      for (const f of [scratch, `${scratch}-wal`, `${scratch}-shm`, `${scratch}-journal`]) rmSync(f, { force: true });
    }
  }

  /** One commit (in its turn among the other writers'), one fsync: the old content or the new. */
  replaceAll(entries: readonly StorageEntry[]): Promise<void> {
    return this.#enqueue(
      entries.map(([key, value]) => ({ op: 'put', key, value })),
      true,
    );
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
    await Promise.allSettled([...this.#syncing]);
    this.#db.close();
    if (this.#wal) closeSync(this.#wal.fd);
    this.#wal = null;
  }

  #enqueue(ops: readonly TxOp[], replace = false): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('storage is closed'));
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ ops, resolve, reject, ...(replace ? { replace: true as const } : {}) });
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
    const durable = this.#fsyncWal();
    const keys = batch.flatMap((w) => w.ops.map((op) => op.key));
    for (const key of keys) this.#undurable.set(key, durable);
    // A restore removed keys it does not name: every read waits for it.
    const replaced = batch.some((w) => w.replace);
    if (replaced) this.#undurableAll = durable;
    this.#syncing.add(durable);
    durable.then(
      () => {
        for (const w of batch) w.resolve();
      },
      (e: unknown) => {
        for (const w of batch) w.reject(e);
      },
    ).finally(() => {
      this.#syncing.delete(durable);
      for (const key of keys) if (this.#undurable.get(key) === durable) this.#undurable.delete(key);
      if (this.#undurableAll === durable) this.#undurableAll = null;
    });
  }

  /**
   * fsync the WAL on the thread pool. Its file is opened once SQLite has made it (its directory
   * synced then, so the file itself survives a power cut), and again should its inode change.
   * A failed fsync stops all further writes: after one, Linux may have dropped the dirty pages.
   */
  #fsyncWal(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    try {
      const ino = statSync(this.#walPath).ino;
      if (this.#wal?.ino !== ino) {
        if (this.#wal) closeSync(this.#wal.fd);
        const fd = openSync(this.#walPath, 'r+');
        this.#wal = { fd, ino: fstatSync(fd).ino };
        const dir = openSync(dirname(this.#walPath), 'r');
        try {
          fsyncSync(dir);
        } finally {
          closeSync(dir);
        }
      }
    } catch (e) {
      return Promise.reject(this.#fail(e));
    }
    const fd = this.#wal.fd;
    return new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(this.#fail(e)) : resolve())));
  }

  #fail(e: unknown): Error {
    this.#failed ??= new Error(`the storage file's write-ahead log could not be synced to disk (${(e as NodeJS.ErrnoException).code ?? String(e)}); restart the server`);
    return this.#failed;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('storage is closed');
    if (this.#failed) throw this.#failed;
  }
}
