import fs from 'node:fs';
import path from 'node:path';
import { badRequest, type AuditSink, type AuditSinkType } from '../logical/index.js';

/** Whether this process may write a file of this mode and owner, by its permission bits (root included). */
function writableBits(st: fs.Stats): boolean {
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  if (st.uid === uid) return (st.mode & 0o200) !== 0;
  if (st.gid === gid) return (st.mode & 0o020) !== 0;
  return (st.mode & 0o002) !== 0;
}

/** The buffer a file device gathers a turn's entries in; one that grew past the most is let go after its write. */
const BUFFER_BYTES = 64 * 1024;
const BUFFER_MOST = 1024 * 1024;

/** The entries of one write: they are written, or fail, together. */
interface Batch {
  readonly done: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((ok, ko) => {
    resolve = ok;
    reject = ko;
  });
  return { done, resolve, reject };
}

/**
 * Entries appended to a file. Each entry is encoded into a buffer as it comes, and the entries of
 * one turn of the event loop are written together with one system call, so under load many
 * requests share its cost; their promise resolves once that write has returned. (A synchronous
 * write: on a busy server the handoff to libuv's thread pool costs more than the write itself.)
 * Before each write the open file is checked: one deleted under the device is opened anew (the
 * entries go to the new file, not to the deleted one), and one whose permission bits no longer
 * let this process write fails the write, so the fail-closed rule applies.
 */
export class FileSink implements AuditSink {
  readonly #path: string;
  /** The mode the file is given, or null to leave it as it is ("0000"). */
  readonly #mode: number | null;
  #fd: number | null = null;
  #buf = Buffer.allocUnsafe(BUFFER_BYTES);
  #len = 0;
  #batch: Batch | null = null;
  #closed = false;

  private constructor(file: string, mode: number | null) {
    this.#path = file;
    this.#mode = mode;
  }

  static open(file: string, mode: number | null): FileSink {
    const sink = new FileSink(file, mode);
    sink.#open();
    return sink;
  }

  write(entry: string): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('audit device closed'));
    // Room for the entry however it encodes (at most three bytes per UTF-16 unit) and its newline.
    const need = this.#len + entry.length * 3 + 1;
    if (need > this.#buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.#buf.length * 2));
      this.#buf.copy(bigger, 0, 0, this.#len);
      this.#buf = bigger;
    }
    this.#len += this.#buf.write(entry, this.#len);
    this.#buf[this.#len++] = 0x0a;
    if (this.#batch === null) {
      this.#batch = newBatch();
      setImmediate(() => this.#flush());
    }
    return this.#batch.done;
  }

  async reopen(): Promise<void> {
    this.#flush();
    this.#closeFd();
    this.#open();
  }

  async close(): Promise<void> {
    this.#flush();
    this.#closed = true;
    this.#closeFd();
  }

  #open(): void {
    fs.mkdirSync(path.dirname(this.#path), { recursive: true, mode: 0o700 });
    const fd = fs.openSync(this.#path, 'a', this.#mode ?? 0o600);
    try {
      // A device or pipe (/dev/stdout) keeps its own mode.
      if (this.#mode !== null && fs.fstatSync(fd).isFile()) fs.fchmodSync(fd, this.#mode);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    this.#fd = fd;
  }

  #closeFd(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    fs.closeSync(fd);
  }

  /** The open file, checked: reopened if it was deleted, refused if it was made unwritable. */
  #checkedFd(): number {
    if (this.#fd !== null) {
      const st = fs.fstatSync(this.#fd);
      if (!st.isFile()) return this.#fd;
      if (st.nlink === 0) this.#closeFd();
      else if (!writableBits(st)) throw new Error('the audit file is no longer writable');
    }
    if (this.#fd === null) this.#open();
    return this.#fd!;
  }

  #flush(): void {
    const batch = this.#batch;
    if (batch === null) return;
    const size = this.#len;
    this.#batch = null;
    this.#len = 0;
    try {
      const fd = this.#checkedFd();
      for (let done = 0; done < size; ) done += fs.writeSync(fd, this.#buf, done, size - done);
    } catch (e) {
      batch.reject(new Error(`audit file write failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
      return;
    } finally {
      if (this.#buf.length > BUFFER_MOST) this.#buf = Buffer.allocUnsafe(BUFFER_BYTES);
    }
    batch.resolve();
  }
}

/** The process's standard output; each write resolves once Node has handed it on. */
class StdoutSink implements AuditSink {
  write(entry: string): Promise<void> {
    return new Promise((resolve, reject) => process.stdout.write(`${entry}\n`, (e) => (e ? reject(e) : resolve())));
  }
  async reopen(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Writes nothing and never fails: for measuring the cost of auditing, or a device that must exist. */
class DiscardSink implements AuditSink {
  async write(): Promise<void> {}
  async reopen(): Promise<void> {}
  async close(): Promise<void> {}
}

function parseMode(raw: string | undefined): number | null {
  if (raw === undefined || raw === '') return 0o600;
  if (!/^[0-7]{3,4}$/.test(raw)) throw badRequest('invalid mode: expected an octal file mode such as "0600"');
  const mode = parseInt(raw, 8);
  return mode === 0 ? null : mode;
}

/** Vault's `file` device: file_path (or "stdout", or "discard"), mode. `path` is its old name for file_path. */
export const fileSinkType: AuditSinkType = {
  options: ['file_path', 'path', 'mode'],
  async create(options) {
    const file = options['file_path'] ?? options['path'] ?? '';
    if (file === '') throw badRequest('file_path is required');
    const mode = parseMode(options['mode']);
    if (file === 'stdout') return new StdoutSink();
    if (file === 'discard') return new DiscardSink();
    try {
      return FileSink.open(path.resolve(file), mode);
    } catch (e) {
      throw badRequest(`sanity check failed; unable to open "${file}" for writing: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  },
};
