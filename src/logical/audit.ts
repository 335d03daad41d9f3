import type { Logger } from '../util/index.js';

/**
 * Where an audit device puts its formatted entries: a file, syslog, a socket. The core formats
 * and hashes; a sink only writes, and says truthfully whether it did.
 */
export interface AuditSink {
  /** Write one entry (one line, no newline); resolves once the OS has it, rejects if it could not. */
  write(entry: string): Promise<void>;
  /** Close and open again what it writes to (SIGHUP: log rotation). */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

/** One audit device type: its own options and how a sink is made from them. */
export interface AuditSinkType {
  /** The option names the type takes besides the common ones (format, prefix, log_raw, ...). */
  readonly options: readonly string[];
  /** Build the sink, checking it can write; throws badRequest naming the option that is wrong. */
  create(options: Readonly<Record<string, string>>, context: { readonly logger: Logger }): Promise<AuditSink>;
}

export type AuditSinkRegistry = Readonly<Record<string, AuditSinkType>>;
