import { CofferError, type AuditSink } from '../../logical/index.js';
import type { Logger } from '../../util/index.js';
import type { EntryFormatter } from './format.js';

/** One enabled audit device: where it writes, how it formats, and how often it has failed. */
export class AuditDevice {
  readonly path: string;
  readonly formatter: EntryFormatter;
  readonly sink: AuditSink;
  /** Entries it was given, and those it could not write. */
  entries = 0;
  failures = 0;
  #failing = false;

  constructor(path: string, formatter: EntryFormatter, sink: AuditSink) {
    this.path = path;
    this.formatter = formatter;
    this.sink = sink;
  }

  /** Whether its last write failed. */
  get failing(): boolean {
    return this.#failing;
  }

  /** Note the outcome of a write; true when it changed from the last one (worth a log line). */
  outcome(ok: boolean): boolean {
    this.entries++;
    if (!ok) this.failures++;
    const changed = this.#failing === ok;
    this.#failing = !ok;
    return changed;
  }
}

/** What no audit device could record: the request fails, and (as Vault answers) says only that. */
export const AUDIT_FAILED = 'internal error';

/**
 * The audit step of the pipeline: each entry goes to every enabled device at once. An entry
 * that one device of several could not write is counted against it (and logged when it starts
 * failing); an entry that no device could write fails the request, so nothing is served
 * unaudited.
 */
export class AuditBroker {
  readonly #logger: Logger;
  #devices: readonly AuditDevice[] = [];

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  get enabled(): boolean {
    return this.#devices.length > 0;
  }

  get devices(): readonly AuditDevice[] {
    return this.#devices;
  }

  add(device: AuditDevice): void {
    this.#devices = [...this.#devices.filter((d) => d.path !== device.path), device];
  }

  remove(path: string): AuditDevice | null {
    const device = this.#devices.find((d) => d.path === path) ?? null;
    this.#devices = this.#devices.filter((d) => d !== device);
    return device;
  }

  clear(): readonly AuditDevice[] {
    const all = this.#devices;
    this.#devices = [];
    return all;
  }

  /** Write an entry, made for each device by `entry`, to every device; throws if none could. */
  async log(entry: (device: AuditDevice) => string): Promise<void> {
    const devices = this.#devices;
    if (devices.length === 0) return;
    if (devices.length === 1) {
      const d = devices[0]!;
      try {
        await d.sink.write(entry(d));
      } catch (e) {
        this.#failed(d, e);
        throw new CofferError('internal', AUDIT_FAILED);
      }
      if (d.outcome(true)) this.#logger.info('audit device writes again', { path: d.path });
      return;
    }
    const results = await Promise.allSettled(devices.map(async (d) => d.sink.write(entry(d))));
    let written = 0;
    results.forEach((r, i) => {
      const d = devices[i]!;
      if (r.status === 'rejected') this.#failed(d, r.reason);
      else {
        written++;
        if (d.outcome(true)) this.#logger.info('audit device writes again', { path: d.path });
      }
    });
    if (written === 0) throw new CofferError('internal', AUDIT_FAILED);
  }

  #failed(d: AuditDevice, e: unknown): void {
    if (d.outcome(false)) this.#logger.error('audit device failed to write', { path: d.path, error: e instanceof Error ? e.message : String(e) });
  }
}
