import { randomBytes, randomUUID } from 'node:crypto';
import type { Barrier } from '../../barrier/index.js';
import type { Backend } from '../../framework/index.js';
import { CofferError, badRequest, clearView, getJSON, putJSON, type StorageView } from '../../logical/index.js';
import { routePath, storagePrefix, type MountConfig, type MountEntry, type MountTableName } from './mount-entry.js';

/** What a backend factory is given: its own storage view and its mount's settings, nothing more. */
export interface BackendContext {
  readonly view: StorageView;
  readonly mountPath: string;
  readonly options: Readonly<Record<string, string>> | null;
}

export type BackendFactory = (ctx: BackendContext) => Promise<Backend>;

export interface MountedBackend {
  readonly entry: MountEntry;
  readonly backend: Backend;
  readonly view: StorageView;
  /** The request path prefix, e.g. "secret/" or "auth/token/". */
  readonly prefix: string;
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
/** Mounts that exist on every server and can be neither moved nor disabled. */
const PROTECTED = new Set(['sys/', 'cubbyhole/', 'identity/', 'auth/token/']);
/** Prefixes no secrets engine may be mounted under. */
const RESERVED = ['sys/', 'auth/', 'cubbyhole/', 'identity/'];
/**
 * Types that exist once per server. The system and token backends own fixed storage prefixes
 * (sys/, sys/token/): a second mount of either would share them, and disabling it would delete
 * every policy and token. Like Vault, refuse to instantiate them again.
 */
const SINGLETON_TYPES = new Set(['system', 'token', 'cubbyhole', 'identity']);

export interface MountManagerOptions {
  readonly barrier: Barrier;
  readonly factories: Readonly<Record<MountTableName, Readonly<Record<string, BackendFactory>>>>;
  /** Called when a mount is disabled, before its storage is cleared (revoke what it issued). */
  readonly onUnmount: (mounted: MountedBackend) => Promise<void>;
}

/**
 * The mount tables and the router over them. A request path is routed to the mount with the
 * longest matching prefix; each mount sees only its own storage view.
 */
export class MountManager {
  readonly #barrier: Barrier;
  readonly #factories: MountManagerOptions['factories'];
  readonly #onUnmount: MountManagerOptions['onUnmount'];
  readonly #tables: Record<MountTableName, MountEntry[]> = { mounts: [], auth: [] };
  /** Route prefix → mounted backend. */
  readonly #routes = new Map<string, MountedBackend>();

  constructor(opts: MountManagerOptions) {
    this.#barrier = opts.barrier;
    this.#factories = opts.factories;
    this.#onUnmount = opts.onUnmount;
  }

  /** Load both tables from storage and start every backend (at unseal). */
  async load(): Promise<void> {
    this.#routes.clear();
    for (const table of ['mounts', 'auth'] as const) {
      this.#tables[table] = (await getJSON<MountEntry[]>(this.#barrier, TABLE_KEY[table])) ?? [];
      for (const entry of this.#tables[table]) await this.#start(entry);
    }
  }

  unload(): void {
    this.#routes.clear();
    this.#tables.mounts = [];
    this.#tables.auth = [];
  }

  entries(table: MountTableName): readonly MountEntry[] {
    return this.#tables[table];
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

  async mount(req: MountRequest): Promise<MountEntry> {
    return this.#add(req, false);
  }

  async #add(req: MountRequest, allowReserved: boolean): Promise<MountEntry> {
    const path = normaliseMountPath(req.path);
    const full = req.table === 'auth' ? `auth/${path}` : path;
    if (req.table === 'mounts' && RESERVED.some((r) => full.startsWith(r)) && !allowReserved) {
      throw badRequest(`cannot mount under reserved path "${full}"`);
    }
    if (SINGLETON_TYPES.has(req.type) && !allowReserved) {
      throw badRequest(`${req.type === 'token' ? 'token credential backend' : `mount type "${req.type}"`} cannot be instantiated`);
    }
    this.#assertFree(full);
    if (!this.#factories[req.table][req.type]) {
      throw badRequest(`plugin not found in the catalog: ${req.type}`);
    }
    const entry: MountEntry = {
      table: req.table,
      path,
      type: req.type,
      description: req.description ?? '',
      uuid: randomUUID(),
      accessor: `${req.table === 'auth' ? 'auth_' : ''}${req.type}_${randomBytes(4).toString('hex')}`,
      config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false, ...req.config },
      options: req.options ?? null,
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
    await this.#add({ table: 'mounts', path: 'sys/', type: 'system', description: 'system endpoints used for control, policy and debugging' }, true);
    await this.#add({ table: 'mounts', path: 'cubbyhole/', type: 'cubbyhole', description: 'per-token private secret storage', local: true }, true);
    await this.#add({ table: 'auth', path: 'token/', type: 'token', description: 'token based credentials' }, true);
    for (const m of extra) await this.mount(m);
  }

  /** Disable a mount: revoke what it issued, then delete its data. */
  async unmount(table: MountTableName, path: string): Promise<void> {
    const mounted = this.find(table, path);
    if (!mounted) return; // Vault: disabling a path with nothing mounted is a success
    if (PROTECTED.has(mounted.prefix)) throw badRequest(`cannot unmount "${mounted.prefix}"`);
    await this.#onUnmount(mounted);
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
    if (PROTECTED.has(src.prefix)) throw badRequest(`cannot remount "${src.prefix}"`);
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
    await this.#persist(table, this.#tables[table].map((e) => (e === src.entry ? moved : e)));
    this.#routes.delete(src.prefix);
    await this.#start(moved);
    return moved;
  }

  /** Change config/description/options; a changed options map restarts the backend. */
  async tune(table: MountTableName, path: string, change: Partial<Pick<MountEntry, 'description' | 'options'>> & { config?: Partial<MountConfig> }): Promise<MountEntry> {
    const mounted = this.find(table, path);
    if (!mounted) throw badRequest(`no mount at ${normaliseMountPath(path)}`);
    const old = mounted.entry;
    const tuned: MountEntry = {
      ...old,
      ...(change.description !== undefined ? { description: change.description } : {}),
      ...(change.options !== undefined ? { options: change.options } : {}),
      config: { ...old.config, ...change.config },
    };
    if (change.options !== undefined && JSON.stringify(change.options) !== JSON.stringify(old.options)) {
      await this.#start(tuned); // may migrate data (KV v1 → v2) before it serves
    } else {
      this.#routes.set(mounted.prefix, { ...mounted, entry: tuned });
    }
    await this.#persist(table, this.#tables[table].map((e) => (e === old ? tuned : e)));
    return tuned;
  }

  async #start(entry: MountEntry): Promise<void> {
    const factory = this.#factories[entry.table][entry.type];
    if (!factory) throw new CofferError('internal', `no backend for mount type ${entry.type}`);
    const view = this.#barrier.view(storagePrefix(entry));
    const prefix = routePath(entry);
    const backend = await factory({ view, mountPath: prefix, options: entry.options });
    this.#routes.set(prefix, { entry, backend, view, prefix });
  }

  async #persist(table: MountTableName, entries: MountEntry[]): Promise<void> {
    await putJSON(this.#barrier, TABLE_KEY[table], entries);
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
