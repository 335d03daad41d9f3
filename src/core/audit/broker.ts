import { CofferError, type AuditSink } from '../../logical/index.js';
import type { Logger } from '../../util/index.js';
import type { EntryFormatter } from './format.js';

/** One enabled audit device: where it writes, how it formats, and whether its last write failed. */
export class AuditDevice {
  readonly path: string;
  readonly formatter: EntryFormatter;
  readonly sink: AuditSink;
  #failing = false;
  /** Requests under way that write to it; a device disabled meanwhile closes once they are done. */
  #users = 0;
  #retired = false;

  constructor(path: string, formatter: EntryFormatter, sink: AuditSink) {
    this.path = path;
    this.formatter = formatter;
    this.sink = sink;
  }

  acquire(): void {
    this.#users++;
  }

  release(): void {
    if (--this.#users === 0 && this.#retired) this.#close();
  }

  /** Disabled (or sealed): close it now, or when the last request writing to it is done. */
  retire(): void {
    this.#retired = true;
    if (this.#users === 0) this.#close();
  }

  #close(): void {
    this.sink.close().catch(() => {});
  }

  /** Note the outcome of a write; true when it changed from the last one (worth a log line). */
  outcome(ok: boolean): boolean {
    const changed = this.#failing === ok;
    this.#failing = !ok;
    return changed;
  }
}

/** What no audit device could record: the request fails, and (as Vault answers) says only that. */
export const AUDIT_FAILED = 'internal error';

export type EntryKind = 'request' | 'response';

/**
 * The audit step of the pipeline: each entry goes to every enabled device at once. Each device
 * that could not write an entry is counted (`failed`, vault.audit.log_*_failure) and logged when
 * it starts failing; an entry that no device could write fails the request, so nothing is
 * served unaudited.
 */
export class AuditBroker {
  readonly #logger: Logger;
  readonly #counted: (kind: EntryKind) => void;
  #devices: readonly AuditDevice[] = [];

  constructor(logger: Logger, failed: (kind: EntryKind) => void = () => {}) {
    this.#logger = logger;
    this.#counted = failed;
  }

  get enabled(): boolean {
    return this.#devices.length > 0;
  }

  get devices(): readonly AuditDevice[] {
    return this.#devices;
  }

  add(device: AuditDevice): void {
    this.#devices = [...this.#devices, device];
  }

  /** Take a device out; it closes once the requests writing to it are done. */
  remove(path: string): void {
    const device = this.#devices.find((d) => d.path === path);
    this.#devices = this.#devices.filter((d) => d !== device);
    device?.retire();
  }

  /** Take every device out (at seal). */
  clear(): void {
    const all = this.#devices;
    this.#devices = [];
    for (const d of all) d.retire();
  }

  /**
   * The devices a request's entries go to: those enabled when it arrived, both its entries to
   * the same ones, even if one is disabled (or the server sealed) in between. Release them when
   * the request is done.
   */
  acquire(): readonly AuditDevice[] {
    const devices = this.#devices;
    for (const d of devices) d.acquire();
    return devices;
  }

  release(devices: readonly AuditDevice[]): void {
    for (const d of devices) d.release();
  }

  /** Write an entry, made for each device by `entry`, to each of devices; throws if none could. */
  log(devices: readonly AuditDevice[], kind: EntryKind, entry: (device: AuditDevice) => string): Promise<void> {
    if (devices.length === 0) return Promise.resolve();
    if (devices.length === 1) return this.#logOne(devices[0]!, kind, entry);
    return this.#logAll(devices, kind, entry);
  }

  async #logOne(d: AuditDevice, kind: EntryKind, entry: (device: AuditDevice) => string): Promise<void> {
    try {
      await d.sink.write(entry(d));
    } catch (e) {
      this.#failed(d, kind, e);
      throw new CofferError('internal', AUDIT_FAILED);
    }
    this.#wrote(d);
  }

  async #logAll(devices: readonly AuditDevice[], kind: EntryKind, entry: (device: AuditDevice) => string): Promise<void> {
    const results = await Promise.allSettled(devices.map(async (d) => d.sink.write(entry(d))));
    let written = 0;
    results.forEach((r, i) => {
      const d = devices[i]!;
      if (r.status === 'rejected') this.#failed(d, kind, r.reason);
      else {
        written++;
        this.#wrote(d);
      }
    });
    if (written === 0) throw new CofferError('internal', AUDIT_FAILED);
  }

  #wrote(d: AuditDevice): void {
    if (d.outcome(true)) this.#logger.info('audit device writes again', { path: d.path });
  }

  #failed(d: AuditDevice, kind: EntryKind, e: unknown): void {
    this.#counted(kind);
    if (d.outcome(false)) this.#logger.error('audit device failed to write', { path: d.path, error: e instanceof Error ? e.message : String(e) });
  }
}
