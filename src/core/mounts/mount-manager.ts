import { randomBytes, randomUUID } from 'node:crypto';
import type { Barrier } from '../../barrier/index.js';
import type { Backend, BackendRegistration, BackendRegistry } from '../../framework/index.js';
import { CofferError, badRequest, clearView, getJSON, putJSON, type StorageView, type SystemView } from '../../logical/index.js';
import type { Clock, Logger } from '../../util/index.js';
import { routePath, storagePrefix, type MountConfig, type MountEntry, type MountTableName } from './mount-entry.js';

export interface MountedBackend {
  readonly entry: MountEntry;
  readonly backend: Backend;
  readonly view: StorageView;
  /** The request path prefix, e.g. "secret/" or "auth/token/". */
  readonly prefix: string;
  /** The mount's TTLs, logger and clock, as its backend sees them. */
  readonly system: SystemView;
}

export interface MountRequest {
  readonly table: MountTableName;
  readonly path: string;
  readonly type: string;
  readonly description?: string;
  readonly config?: Partial<MountConfig>;
  readonly options?: Readonly<Record<string, string>> | null;
  readonly local?: boolean;
  readonly sealWrap?: boolean;
  readonly externalEntropyAccess?: boolean;
}

const TABLE_KEY: Record<MountTableName, string> = { mounts: 'core/mounts', auth: 'core/auth' };
/** Prefixes no secrets engine may be mounted under. */
const RESERVED = ['sys/', 'auth/', 'cubbyhole/', 'identity/'];

export interface MountManagerOptions {
  readonly barrier: Barrier;
  /** Mount types by table: the engine registry for "mounts", the auth registry for "auth". */
  readonly registries: Readonly<Record<MountTableName, BackendRegistry>>;
  /** The mounts every server has (system, cubbyhole, token); they can be neither moved nor disabled. */
  readonly builtin: readonly MountRequest[];
  /** Server-wide lease TTLs in seconds, for mounts that do not tune their own. */
  readonly systemTtls: { readonly defaultTtl: number; readonly maxTtl: number };
  readonly logger: Logger;
  readonly clock: Clock;
  /** A password under a named password policy ("" for the default), for every mount's system view. */
  readonly generatePassword: (policy: string) => Promise<string>;
  /** Called when a mount is disabled, before its storage is cleared (revoke what it issued). */
  readonly onUnmount: (mounted: MountedBackend) => Promise<void>;
  /** Called when a mount moves, before it serves at its new path (re-key what it issued). */
  readonly onRemount: (from: string, to: string) => Promise<void>;
}

/**
 * The mount tables and the router over them. A request path is routed to the mount with the
 * longest matching prefix; each mount sees only its own storage view and its system view. The
 * manager knows mount types only through their registrations.
 */
export class MountManager {
  readonly #opts: MountManagerOptions;
  readonly #protected: ReadonlySet<string>;
  readonly #tables: Record<MountTableName, MountEntry[]> = { mounts: [], auth: [] };
  /** Route prefix → mounted backend. */
  readonly #routes = new Map<string, MountedBackend>();

  constructor(opts: MountManagerOptions) {
    this.#opts = opts;
    this.#protected = new Set(opts.builtin.map((m) => routePath({ table: m.table, path: normaliseMountPath(m.path) })));
  }

  /** Load both tables from storage and start every backend (at unseal). */
  async load(): Promise<void> {
    this.#routes.clear();
    for (const table of ['mounts', 'auth'] as const) {
      this.#tables[table] = (await getJSON<MountEntry[]>(this.#opts.barrier, TABLE_KEY[table])) ?? [];
      for (const entry of this.#tables[table]) await this.#start(entry);
    }
    // A built-in mount a newer release added (identity/) joins a server initialised before it.
    for (const m of this.#opts.builtin) {
      if (!this.#routes.has(routePath({ table: m.table, path: normaliseMountPath(m.path) }))) await this.#add(m, true);
    }
  }

  unload(): void {
    for (const m of this.#routes.values()) this.#retire(m);
    this.#routes.clear();
    this.#tables.mounts = [];
    this.#tables.auth = [];
  }

  entries(table: MountTableName): readonly MountEntry[] {
    return this.#tables[table];
  }

  /** Every mounted backend (for fan-out hooks such as a token's revocation). */
  mounted(): Iterable<MountedBackend> {
    return this.#routes.values();
  }

  /** The mount serving path, and the path relative to it. */
  route(path: string): { mounted: MountedBackend; relative: string } | null {
    let hit = this.#longest(path);
    // "secret" means "secret/" at a mount root, as in Vault.
    if (!hit && !path.endsWith('/')) hit = this.#longest(`${path}/`);
    if (!hit) return null;
    return { mounted: hit, relative: path.length >= hit.prefix.length ? path.slice(hit.prefix.length) : '' };
  }

  #longest(path: string): MountedBackend | null {
    for (let i = path.lastIndexOf('/'); i >= 0; i = path.lastIndexOf('/', i - 1)) {
      const m = this.#routes.get(path.slice(0, i + 1));
      if (m) return m;
      if (i === 0) break;
    }
    return null;
  }

  find(table: MountTableName, path: string): MountedBackend | null {
    const p = normaliseMountPath(path);
    return this.#routes.get(table === 'auth' ? `auth/${p}` : p) ?? null;
  }

  /** The registered type a name (or alias) enables, with the options the alias presets. */
  resolveType(table: MountTableName, name: string): { type: string; registration: BackendRegistration; options: Readonly<Record<string, string>> } | null {
    const registry = this.#opts.registries[table];
    const direct = registry[name];
    if (direct) return { type: name, registration: direct, options: {} };
    for (const [type, registration] of Object.entries(registry)) {
      const preset = registration.aliases?.[name];
      if (preset) return { type, registration, options: preset };
    }
    return null;
  }

  async mount(req: MountRequest): Promise<MountEntry> {
    return this.#add(req, false);
  }

  async #add(req: MountRequest, builtin: boolean): Promise<MountEntry> {
    const path = normaliseMountPath(req.path);
    const full = req.table === 'auth' ? `auth/${path}` : path;
    if (req.table === 'mounts' && RESERVED.some((r) => full.startsWith(r)) && !builtin) {
      throw badRequest(`cannot mount under reserved path "${full}"`);
    }
    const registration = this.#opts.registries[req.table][req.type];
    if (!registration) throw badRequest(`plugin not found in the catalog: ${req.type}`);
    // A singleton owns fixed storage and fixed paths: a second one would share them.
    if (registration.singleton && !builtin) throw badRequest(`mount type "${req.type}" cannot be instantiated`);
    this.#assertFree(full);
    const entry: MountEntry = {
      table: req.table,
      path,
      type: req.type,
      description: req.description ?? '',
      uuid: randomUUID(),
      accessor: `${req.table === 'auth' ? 'auth_' : ''}${req.type}_${randomBytes(4).toString('hex')}`,
      config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false, ...req.config },
      options: req.options ?? registration.defaultOptions ?? null,
      local: req.local ?? false,
      sealWrap: req.sealWrap ?? false,
      externalEntropyAccess: req.externalEntropyAccess ?? false,
    };
    await this.#start(entry);
    try {
      await this.#persist(req.table, [...this.#tables[req.table], entry]);
    } catch (e) {
      this.#routes.delete(routePath(entry));
      throw e;
    }
    return entry;
  }

  /** Create the built-in mounts of a new server (which live under reserved paths), then extra ones. */
  async bootstrap(extra: readonly MountRequest[]): Promise<void> {
    for (const m of this.#opts.builtin) await this.#add(m, true);
    for (const m of extra) await this.mount(m);
  }

  /** Disable a mount: revoke what it issued, then delete its data. */
  async unmount(table: MountTableName, path: string): Promise<void> {
    const mounted = this.find(table, path);
    if (!mounted) return; // Vault: disabling a path with nothing mounted is a success
    if (this.#protected.has(mounted.prefix)) throw badRequest(`cannot unmount "${mounted.prefix}"`);
    await this.#opts.onUnmount(mounted);
    await this.#persist(table, this.#tables[table].filter((e) => e !== mounted.entry));
    this.#routes.delete(mounted.prefix);
    await mounted.backend.cleanup?.();
    await clearView(mounted.view);
  }

  /** Move a mount to a new path, keeping its data (storage is keyed by uuid, not path). */
  async remount(from: string, to: string): Promise<MountEntry> {
    const src = this.#routes.get(normaliseMountPath(from));
    if (!src) throw badRequest(`no secret engine mount at ${normaliseMountPath(from)}`);
    const table = src.entry.table;
    if (this.#protected.has(src.prefix)) throw badRequest(`cannot remount "${src.prefix}"`);
    let dst = normaliseMountPath(to);
    if (table === 'auth') {
      if (!dst.startsWith('auth/')) throw badRequest('cannot move an auth mount outside auth/');
      dst = dst.slice('auth/'.length);
    } else if (RESERVED.some((r) => dst.startsWith(r))) {
      throw badRequest(`cannot remount to reserved path "${dst}"`);
    }
    const dstFull = table === 'auth' ? `auth/${dst}` : dst;
    this.#assertFree(dstFull);
    const moved: MountEntry = { ...src.entry, path: dst };
    // Out of service while its leases move, so nothing is issued under the old path meanwhile.
    this.#routes.delete(src.prefix);
    try {
      await this.#opts.onRemount(src.prefix, dstFull);
      try {
        await this.#persist(table, this.#tables[table].map((e) => (e === src.entry ? moved : e)));
      } catch (e) {
        await this.#opts.onRemount(dstFull, src.prefix); // each lease moves atomically, so back is safe
        throw e;
      }
    } catch (e) {
      this.#routes.set(src.prefix, src);
      throw e;
    }
    await this.#start(moved);
    this.#retire(src);
    return moved;
  }

  /**
   * Change config/description/options; a changed options map restarts the backend. Answers with
   * the warnings the mount type gives for the option change.
   */
  async tune(table: MountTableName, path: string, change: Partial<Pick<MountEntry, 'description' | 'options'>> & { config?: Partial<MountConfig> }): Promise<{ entry: MountEntry; warnings: string[] }> {
    const mounted = this.find(table, path);
    if (!mounted) throw badRequest(`no mount at ${normaliseMountPath(path)}`);
    const old = mounted.entry;
    const tuned: MountEntry = {
      ...old,
      ...(change.description !== undefined ? { description: change.description } : {}),
      ...(change.options !== undefined ? { options: change.options } : {}),
      config: { ...old.config, ...change.config },
    };
    const warnings: string[] = [];
    if (change.options !== undefined && JSON.stringify(change.options) !== JSON.stringify(old.options)) {
      const registration = this.#opts.registries[table][old.type];
      warnings.push(...(registration?.optionWarnings?.(old.options, change.options ?? {}) ?? []));
      await this.#start(tuned); // may migrate data (KV v1 → v2) before it serves
    } else {
      this.#routes.set(mounted.prefix, { ...mounted, entry: tuned });
    }
    await this.#persist(table, this.#tables[table].map((e) => (e === old ? tuned : e)));
    return { entry: tuned, warnings };
  }

  async #start(entry: MountEntry): Promise<void> {
    const registration = this.#opts.registries[entry.table][entry.type];
    if (!registration) throw new CofferError('internal', `no backend for mount type ${entry.type}`);
    const view = this.#opts.barrier.view(storagePrefix(entry));
    const prefix = routePath(entry);
    const system = this.#systemView(entry.table, entry.uuid);
    const backend = await registration.factory({ view, mountPath: prefix, options: entry.options, system });
    const replaced = this.#routes.get(prefix);
    this.#routes.set(prefix, { entry, backend, view, prefix, system });
    if (replaced) this.#retire(replaced);
  }

  /** A backend instance that no longer serves lets go of what it holds (connection pools). */
  #retire(m: MountedBackend): void {
    m.backend.cleanup?.().catch((e: unknown) => this.#opts.logger.warn('a mount failed to release its resources', { mount: m.prefix, error: e instanceof Error ? e.message : 'error' }));
  }

  /** A mount's system view. Its TTLs are read from the mount's current entry, so a tune applies at once. */
  #systemView(table: MountTableName, uuid: string): SystemView {
    const { systemTtls, logger, clock, generatePassword } = this.#opts;
    const config = () => this.#tables[table].find((e) => e.uuid === uuid)?.config;
    return {
      defaultLeaseTtl: () => config()?.default_lease_ttl || systemTtls.defaultTtl,
      maxLeaseTtl: () => config()?.max_lease_ttl || systemTtls.maxTtl,
      generatePassword,
      logger,
      clock,
    };
  }

  async #persist(table: MountTableName, entries: MountEntry[]): Promise<void> {
    await putJSON(this.#opts.barrier, TABLE_KEY[table], entries);
    this.#tables[table] = entries;
  }

  #assertFree(full: string): void {
    for (const existing of this.#routes.keys()) {
      if (existing.startsWith(full) || full.startsWith(existing)) {
        throw badRequest(`path is already in use at ${existing}`);
      }
    }
  }
}

/** "secret" → "secret/"; refuses empty, "..", and non-printable paths. */
export function normaliseMountPath(path: string): string {
  const p = path.replace(/^\/+/, '');
  if (p === '' || p === '/') throw badRequest('path cannot be empty');
  if (p.split('/').some((seg) => seg === '..' || seg === '.')) throw badRequest('path cannot contain ".." or "." segments');
  return p.endsWith('/') ? p : `${p}/`;
}
