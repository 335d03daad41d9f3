import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { badRequest, getJSON, putJSON, type StorageView } from '../../logical/index.js';
import { writeFileWhole, type Clock, type Logger } from '../../util/index.js';

/** One automated snapshot configuration, in Vault Enterprise's shape (storage_type local only). */
export interface AutoSnapshotConfig {
  /** Seconds between snapshots. */
  readonly interval: number;
  readonly retain: number;
  readonly path_prefix: string;
  readonly file_prefix: string;
  readonly storage_type: 'local';
  /** Bytes all kept snapshots of this configuration may take; 0 for no limit. */
  readonly local_max_space: number;
}

/** What sys/storage/raft/snapshot-auto/status/:name answers. */
export interface AutoSnapshotStatus {
  readonly consecutive_errors: number;
  /** The most recent attempt, finished or not. */
  readonly snapshot_start: string;
  readonly snapshot_url: string;
  /** The most recent finished attempt, and its error ("" when it succeeded). */
  readonly last_snapshot_start: string;
  readonly last_snapshot_end: string;
  readonly last_snapshot_error: string;
  readonly last_snapshot_url: string;
  readonly next_snapshot_start: string;
}

interface Schedule {
  config: AutoSnapshotConfig;
  /** When the next snapshot is due, in clock milliseconds. */
  next: number;
  status: AutoSnapshotStatus;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const FILE_PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const EMPTY_STATUS: AutoSnapshotStatus = {
  consecutive_errors: 0,
  snapshot_start: '',
  snapshot_url: '',
  last_snapshot_start: '',
  last_snapshot_end: '',
  last_snapshot_error: '',
  last_snapshot_url: '',
  next_snapshot_start: '',
};

export function checkConfigName(name: string): void {
  if (!NAME.test(name)) throw badRequest('name must be 1 to 128 letters, digits, ".", "_" or "-", starting with a letter or digit');
}

/** Check a configuration as given (interval already in seconds); the error names the field. */
export function validateAutoSnapshotConfig(c: { interval: number; retain: number; path_prefix: string; file_prefix: string; storage_type: string; local_max_space: number | null }): AutoSnapshotConfig {
  if (!(c.interval > 0)) throw badRequest('interval is required: the time between snapshots, as seconds or a duration such as "24h"');
  if (!Number.isSafeInteger(c.retain) || c.retain < 1) throw badRequest('retain must be at least 1');
  if (c.storage_type === '') throw badRequest('storage_type is required');
  if (c.storage_type !== 'local') throw badRequest(`storage_type "${c.storage_type.slice(0, 32)}" is not supported: coffer writes automated snapshots to local files only (storage_type=local)`);
  if (c.path_prefix === '') throw badRequest('path_prefix is required: the directory to write the snapshots in');
  if (!isAbsolute(c.path_prefix)) throw badRequest('path_prefix must be an absolute directory path');
  if (!FILE_PREFIX.test(c.file_prefix)) throw badRequest('file_prefix must be 1 to 128 letters, digits, ".", "_" or "-"');
  if (c.local_max_space === null) throw badRequest('local_max_space is required for storage_type=local: the bytes all kept snapshots may take (0 for no limit)');
  if (!Number.isSafeInteger(c.local_max_space) || c.local_max_space < 0) throw badRequest('local_max_space must be a number of bytes, 0 or more');
  return { interval: c.interval, retain: c.retain, path_prefix: c.path_prefix, file_prefix: c.file_prefix, storage_type: 'local', local_max_space: c.local_max_space };
}

/**
 * Automated snapshots: each named configuration writes a snapshot file every `interval` into its
 * directory and keeps the newest `retain`. Configurations live in the barrier (a restored
 * snapshot brings them back); each one's status lives in memory. Due snapshots are taken by the
 * core's periodic work while unsealed, one at a time.
 */
export class AutoSnapshots {
  readonly #view: StorageView;
  readonly #take: () => Promise<Buffer>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #schedules = new Map<string, Schedule>();

  constructor(deps: { view: StorageView; take: () => Promise<Buffer>; clock: Clock; logger: Logger }) {
    this.#view = deps.view;
    this.#take = deps.take;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  /** Read every configuration (at unseal); the first snapshot of each is one interval away. */
  async load(): Promise<void> {
    this.#schedules.clear();
    for (const name of await this.#view.list('')) {
      const config = await getJSON<AutoSnapshotConfig>(this.#view, name);
      if (config) this.#schedule(name, config);
    }
  }

  reset(): void {
    this.#schedules.clear();
  }

  names(): string[] {
    return [...this.#schedules.keys()].sort();
  }

  config(name: string): AutoSnapshotConfig | null {
    return this.#schedules.get(name)?.config ?? null;
  }

  status(name: string): AutoSnapshotStatus | null {
    return this.#schedules.get(name)?.status ?? null;
  }

  async set(name: string, config: AutoSnapshotConfig): Promise<void> {
    checkConfigName(name);
    await putJSON(this.#view, name, config);
    const old = this.#schedules.get(name);
    this.#schedule(name, config, old?.status);
  }

  async delete(name: string): Promise<void> {
    await this.#view.delete(name);
    this.#schedules.delete(name);
  }

  /** Take every snapshot that is due now (the core's periodic work calls this). */
  async tick(): Promise<void> {
    for (const [name, s] of [...this.#schedules]) {
      if (this.#clock.now() >= s.next && this.#schedules.get(name) === s) await this.#run(name, s);
    }
  }

  #schedule(name: string, config: AutoSnapshotConfig, status: AutoSnapshotStatus = EMPTY_STATUS): void {
    const next = this.#clock.now() + config.interval * 1000;
    this.#schedules.set(name, { config, next, status: { ...status, next_snapshot_start: new Date(next).toISOString() } });
  }

  async #run(name: string, s: Schedule): Promise<void> {
    const started = this.#clock.now();
    const { config } = s;
    const file = join(config.path_prefix, `${config.file_prefix}-${BigInt(started) * 1_000_000n}.snap`);
    const url = `file://${file}`;
    s.next = started + config.interval * 1000;
    s.status = { ...s.status, snapshot_start: new Date(started).toISOString(), snapshot_url: url, next_snapshot_start: new Date(s.next).toISOString() };
    let error = '';
    try {
      const data = await this.#take();
      writeSnapshotFile(config, file, data);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      this.#logger.error('automated snapshot failed', { config: name, error });
    }
    const ended = new Date(this.#clock.now()).toISOString();
    s.status = {
      ...s.status,
      consecutive_errors: error ? s.status.consecutive_errors + 1 : 0,
      last_snapshot_start: new Date(started).toISOString(),
      last_snapshot_end: ended,
      last_snapshot_error: error,
      last_snapshot_url: url,
    };
  }
}

/** This configuration's snapshot files in its directory, oldest first. */
function kept(config: AutoSnapshotConfig): { name: string; bytes: number }[] {
  const pattern = new RegExp(`^${config.file_prefix.replace(/[.]/g, '\\.')}-(\\d+)\\.snap$`);
  let names: string[];
  try {
    names = readdirSync(config.path_prefix);
  } catch {
    return [];
  }
  return names
    .map((n) => ({ n, m: pattern.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => (BigInt(a.m[1]!) < BigInt(b.m[1]!) ? -1 : 1))
    .map(({ n }) => ({ name: n, bytes: statSync(join(config.path_prefix, n)).size }));
}

/**
 * Write one snapshot file whole (writeFileWhole), mode 0600, then delete the oldest beyond `retain`. Refused, writing nothing, when the
 * snapshots to keep with this one would take more than local_max_space.
 */
function writeSnapshotFile(config: AutoSnapshotConfig, file: string, data: Buffer): void {
  mkdirSync(config.path_prefix, { recursive: true, mode: 0o700 });
  const before = kept(config);
  const staying = before.slice(Math.max(0, before.length - (config.retain - 1)));
  const total = staying.reduce((n, f) => n + f.bytes, data.length);
  if (config.local_max_space > 0 && total > config.local_max_space) {
    throw new Error(`the snapshot (${data.length} bytes) with the ${staying.length} kept would take ${total} bytes, more than local_max_space (${config.local_max_space})`);
  }
  writeFileWhole(file, data);
  for (const old of before.slice(0, before.length - staying.length)) rmSync(join(config.path_prefix, old.name), { force: true });
}
