import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CofferError, badRequest, deleteOp, getJSON, putJSON, putJSONOp, type StorageView, type TokenType } from '../../logical/index.js';
import { type Clock, KeyedMutex, LruMap } from '../../util/index.js';
import { MinHeap } from './min-heap.js';
import { BATCH_PREFIX, hashToken, newAccessor, newServiceToken } from './token-id.js';

/** A token as stored. The token itself is never stored: `id` is its keyed hash. */
export interface TokenEntry {
  readonly id: string;
  readonly accessor: string;
  /** Keyed hash of the parent token, "" for an orphan. */
  readonly parent: string;
  readonly policies: readonly string[];
  readonly path: string;
  readonly meta: Readonly<Record<string, string>> | null;
  readonly displayName: string;
  /** Uses left; 0 means unlimited, -1 means the last use has been spent. */
  readonly numUses: number;
  /** Seconds since the epoch. */
  readonly creationTime: number;
  /** The TTL the token was created with, in seconds; 0 for no expiry. */
  readonly creationTtl: number;
  /** Current TTL from the last renewal (or creation). */
  readonly ttl: number;
  readonly explicitMaxTtl: number;
  readonly period: number;
  readonly renewable: boolean;
  readonly role: string;
  readonly entityId: string;
  readonly type: TokenType;
  /** Client addresses the token may be used from (CIDR blocks); empty for anywhere. */
  readonly boundCidrs: readonly string[];
  /** What the issuing auth method's renew handler needs; never shown. */
  readonly internal: Readonly<Record<string, unknown>> | null;
  readonly cubbyholeId: string;
  /** Milliseconds since the epoch of the last renewal (or creation). */
  readonly lastRenewal: number;
  /** Milliseconds since the epoch, 0 for never. */
  readonly expireAt: number;
}

/** What a caller chooses about a new token; the store fills in the rest. `id` is a chosen token value. */
export type NewToken = Pick<TokenEntry, 'parent' | 'policies' | 'path' | 'meta' | 'displayName' | 'numUses' | 'ttl' | 'explicitMaxTtl' | 'period' | 'renewable' | 'role'> &
  Partial<Pick<TokenEntry, 'entityId' | 'type' | 'boundCidrs' | 'internal'>> & {
    readonly id?: string;
  };

/** How far a renewal may go: the caps that hold now (the mount's, the issuing role's). Seconds. */
export interface RenewLimits {
  readonly increment: number;
  /** Counted from issue; 0 for none. Ignored for a periodic token. */
  readonly maxTtl: number;
  /** The period that applies now (a role's token_period may have changed); the token's own when absent. */
  readonly period?: number;
}

/** Entries written before a field existed read as if written with its default. */
const ENTRY_DEFAULTS = { type: 'service', boundCidrs: [], internal: null } as const;

export interface TokenStoreOptions {
  /** The barrier view the store owns (tokens, accessors, parent index, salt). */
  readonly view: StorageView;
  readonly clock: Clock;
  /** Called once per revoked token, before its entry is removed (cubbyhole, leases). */
  readonly onRevoke: (entry: TokenEntry) => Promise<void>;
  /** Report background failures (expiry sweeps) without throwing. */
  readonly onError: (message: string, e: unknown) => void;
}

const CACHE_LIMIT = 20_000;
const HASH_CACHE_LIMIT = 20_000;
const BATCH_CACHE_LIMIT = 10_000;
/** Authenticated with every batch token's ciphertext, so nothing else sealed with the key reads as one. */
const BATCH_AAD = Buffer.from('coffer batch token v1');

export const isBatchToken = (token: string): boolean => token.startsWith(BATCH_PREFIX);

/**
 * Owns tokens: creation, lookup by token or accessor, use counts, renewal, and revocation of a
 * token with its descendants. Tokens expire exactly at `expireAt` (lookups check it) and a
 * timer removes them shortly after.
 */
export class TokenStore {
  readonly #view: StorageView;
  readonly #clock: Clock;
  readonly #onRevoke: TokenStoreOptions['onRevoke'];
  readonly #onError: TokenStoreOptions['onError'];
  readonly #mutex = new KeyedMutex();
  readonly #cache = new LruMap<string, TokenEntry>(CACHE_LIMIT);
  readonly #hashes = new Map<string, string>();
  readonly #expiry = new MinHeap();
  #salt: Uint8Array | null = null;
  /** The AES-256-GCM key batch tokens are sealed with, kept behind the barrier. */
  #batchKey: Buffer | null = null;
  /** Batch tokens opened recently: token → entry (they are in no storage to look up). */
  readonly #batches = new Map<string, TokenEntry>();
  #timer: NodeJS.Timeout | null = null;

  constructor(opts: TokenStoreOptions) {
    this.#view = opts.view;
    this.#clock = opts.clock;
    this.#onRevoke = opts.onRevoke;
    this.#onError = opts.onError;
  }

  /** Load the salt (creating it on first use) and schedule expiry of every stored token. */
  async start(): Promise<void> {
    let salt = await this.#view.get('salt');
    if (salt === null) {
      salt = randomBytes(32);
      await this.#view.put('salt', salt);
    }
    this.#salt = salt;
    let batchKey = await this.#view.get('batch-key');
    if (batchKey === null) {
      batchKey = randomBytes(32);
      await this.#view.put('batch-key', batchKey);
    }
    this.#batchKey = Buffer.from(batchKey);
    for (const key of await this.#view.list('id/')) {
      const entry = await getJSON<TokenEntry>(this.#view, `id/${key}`);
      if (entry && entry.expireAt > 0) this.#expiry.push(entry.expireAt, entry.id);
    }
    this.#armTimer();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#expiry.clear();
    this.#cache.clear();
    this.#hashes.clear();
    this.#batches.clear();
    this.#salt = null;
    this.#batchKey = null;
  }

  hash(token: string): string {
    if (!this.#salt) throw new CofferError('sealed', 'Vault is sealed');
    return hashToken(this.#salt, token);
  }

  /**
   * The keyed hash of a token, remembered for tokens that were found live: the HMAC is the
   * largest fixed cost of a request. Only real tokens are remembered (never a string an attacker
   * made up), the memo is bounded, and a stale entry is harmless because revocation removes what
   * the hash points to. Forgotten on seal.
   */
  #idOf(token: string): string {
    return this.#hashes.get(token) ?? this.hash(token);
  }

  #memo(token: string, id: string): void {
    if (token.length > 256 || this.#hashes.has(token)) return;
    if (this.#hashes.size >= HASH_CACHE_LIMIT) this.#hashes.clear();
    this.#hashes.set(token, id);
  }

  #accessorKey(accessor: string): string {
    return `accessor/${this.hash(`accessor:${accessor}`)}`;
  }

  /** Create and persist a token (or seal a batch token); returns the token (shown once) and its entry. */
  async create(spec: NewToken): Promise<{ token: string; entry: TokenEntry }> {
    if (spec.type === 'batch') return this.#createBatch(spec);
    const token = spec.id ?? newServiceToken();
    const id = this.hash(token);
    if (spec.id !== undefined && (await this.#load(id))) throw badRequest('cannot create a token with a duplicate ID');
    const now = this.#clock.now();
    const entry: TokenEntry = {
      id,
      accessor: newAccessor(),
      parent: spec.parent,
      policies: spec.policies,
      path: spec.path,
      meta: spec.meta,
      displayName: spec.displayName,
      numUses: spec.numUses,
      creationTime: Math.floor(now / 1000),
      creationTtl: spec.ttl,
      ttl: spec.ttl,
      explicitMaxTtl: spec.explicitMaxTtl,
      period: spec.period,
      renewable: spec.renewable && spec.ttl > 0,
      role: spec.role,
      entityId: spec.entityId ?? '',
      type: spec.type ?? 'service',
      boundCidrs: spec.boundCidrs ?? [],
      internal: spec.internal ?? null,
      cubbyholeId: randomBytes(16).toString('hex'),
      lastRenewal: now,
      expireAt: spec.ttl > 0 ? now + spec.ttl * 1000 : 0,
    };
    // The entry, its accessor and its place under its parent are one transaction: no crash
    // leaves a token its accessor cannot find, or a child its parent's revocation would miss.
    await this.#view.transaction([
      putJSONOp(`id/${id}`, entry),
      putJSONOp(this.#accessorKey(entry.accessor), { id }),
      ...(entry.parent ? [{ op: 'put' as const, key: `parent/${entry.parent}/${id}`, value: new Uint8Array(0) }] : []),
    ]);
    this.#remember(entry);
    if (entry.expireAt) this.#schedule(entry.expireAt, id);
    return { token, entry };
  }

  /**
   * A batch token: its entry sealed into the token itself (AES-256-GCM under the batch key), so
   * it costs no storage write to issue and none to check. It has no accessor, no cubbyhole and
   * no use count; it cannot be renewed or revoked, and lives until its TTL ends.
   */
  #createBatch(spec: NewToken): { token: string; entry: TokenEntry } {
    if (!this.#batchKey) throw new CofferError('sealed', 'Vault is sealed');
    const now = this.#clock.now();
    const entry: TokenEntry = {
      id: `b${randomBytes(16).toString('hex')}`,
      accessor: '',
      parent: spec.parent,
      policies: spec.policies,
      path: spec.path,
      meta: spec.meta,
      displayName: spec.displayName,
      numUses: 0,
      creationTime: Math.floor(now / 1000),
      creationTtl: spec.ttl,
      ttl: spec.ttl,
      explicitMaxTtl: 0,
      period: 0,
      renewable: false,
      role: spec.role,
      entityId: spec.entityId ?? '',
      type: 'batch',
      boundCidrs: spec.boundCidrs ?? [],
      internal: null,
      cubbyholeId: '',
      lastRenewal: now,
      expireAt: now + spec.ttl * 1000,
    };
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#batchKey, iv).setAAD(BATCH_AAD);
    const sealed = Buffer.concat([cipher.update(JSON.stringify(entry)), cipher.final()]);
    const token = `${BATCH_PREFIX}${Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url')}`;
    this.#rememberBatch(token, entry);
    return { token, entry };
  }

  /** The entry sealed in a batch token, or null if it was not sealed by this server's key. */
  #openBatch(token: string): TokenEntry | null {
    const known = this.#batches.get(token);
    if (known) return known;
    if (!this.#batchKey) throw new CofferError('sealed', 'Vault is sealed');
    const raw = Buffer.from(token.slice(BATCH_PREFIX.length), 'base64url');
    if (raw.length < 12 + 16 + 2) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#batchKey, raw.subarray(0, 12)).setAAD(BATCH_AAD);
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
      const entry = JSON.parse(plain.toString('utf8')) as TokenEntry;
      this.#rememberBatch(token, entry);
      return entry;
    } catch {
      return null;
    }
  }

  #rememberBatch(token: string, entry: TokenEntry): void {
    if (this.#batches.size >= BATCH_CACHE_LIMIT) this.#batches.clear();
    this.#batches.set(token, entry);
  }

  /** A batch token is live until its TTL ends, and while its parent (if any) is. */
  async #liveBatch(token: string): Promise<TokenEntry | null> {
    const entry = this.#openBatch(token);
    if (!entry || !this.#live(entry)) return null;
    if (entry.parent && !(await this.lookupByHash(entry.parent))) return null;
    return entry;
  }

  /**
   * The live entry of a token seen recently, without waiting: its hash is remembered and its
   * entry cached. Undefined when that is not known here (ask `lookup`), never a stale answer:
   * revocation drops the cached entry and expiry is checked now.
   */
  lookupCached(token: string): TokenEntry | undefined {
    if (isBatchToken(token)) {
      const entry = this.#batches.get(token);
      return entry && !entry.parent && this.#live(entry) ? entry : undefined;
    }
    const id = this.#hashes.get(token);
    const entry = id === undefined ? undefined : this.#cache.get(id);
    return entry !== undefined && this.#live(entry) ? entry : undefined;
  }

  /** The live entry for a token, or null if unknown, expired or used up. */
  async lookup(token: string): Promise<TokenEntry | null> {
    if (typeof token !== 'string' || token === '') return null;
    if (isBatchToken(token)) return this.#liveBatch(token);
    const id = this.#idOf(token);
    const entry = await this.lookupByHash(id);
    if (entry) this.#memo(token, id);
    return entry;
  }

  /**
   * The live entry for a token hash. `duringOwnRequest` also admits a token whose last use is
   * being spent by the current request (it is revoked when that request ends).
   */
  async lookupByHash(id: string, opts: { duringOwnRequest?: boolean } = {}): Promise<TokenEntry | null> {
    const entry = await this.#load(id);
    if (!entry) return null;
    if (opts.duringOwnRequest && entry.numUses === -1) return entry.expireAt === 0 || entry.expireAt > this.#clock.now() ? entry : null;
    return this.#live(entry) ? entry : null;
  }

  async lookupByAccessor(accessor: string): Promise<TokenEntry | null> {
    if (typeof accessor !== 'string' || accessor === '') return null;
    const ref = await getJSON<{ id: string }>(this.#view, this.#accessorKey(accessor));
    return ref ? this.lookupByHash(ref.id) : null;
  }

  /**
   * Spend one use of a token: null if it is not live (including "no uses left"). Serialised
   * per token, so N parallel requests against a token with one use left succeed exactly once.
   */
  async use(token: string): Promise<TokenEntry | null> {
    if (typeof token !== 'string' || token === '') return null;
    if (isBatchToken(token)) return this.#liveBatch(token);
    const id = this.#idOf(token);
    const cached = this.#cache.get(id);
    if (cached && cached.numUses === 0) return this.#live(cached) ? cached : null;
    return this.#mutex.run(id, async () => {
      const entry = await this.#load(id);
      if (!entry || !this.#live(entry)) return null;
      if (entry.numUses === 0) return entry;
      const spent: TokenEntry = { ...entry, numUses: entry.numUses === 1 ? -1 : entry.numUses - 1 };
      await this.#save(spent);
      return spent;
    });
  }

  /** After a request: a token whose last use was just spent is revoked. */
  async afterUse(entry: TokenEntry): Promise<void> {
    if (entry.numUses === -1) await this.revokeTree(entry.id);
  }

  /**
   * Revoke every token issued on a path in the folder (ending in "/"): the tokens of an auth
   * mount being disabled, or of `lease revoke -prefix auth/approle/login` (whose tokens were
   * issued on "auth/approle/login" itself).
   */
  async revokeIssuedUnder(folder: string): Promise<void> {
    for (const key of await this.#view.list('id/')) {
      const entry = await this.#load(key);
      if (entry && `${entry.path}/`.startsWith(folder)) await this.revokeTree(entry.id);
    }
  }

  /** Tokens issued under `from` now belong to `to` (an auth mount moved): their renewals go there. */
  async repath(from: string, to: string): Promise<void> {
    for (const key of await this.#view.list('id/')) {
      await this.#mutex.run(key, async () => {
        const entry = await this.#load(key);
        if (entry && entry.path.startsWith(from)) await this.#save({ ...entry, path: to + entry.path.slice(from.length) });
      });
    }
  }

  /**
   * Count the stored tokens that live, by policy and by the path that issued them (the usage
   * gauges). Reads storage without filling the token cache.
   */
  async usage(): Promise<{ tokens: number; byPolicy: Map<string, number>; byPath: Map<string, number> }> {
    let tokens = 0;
    const byPolicy = new Map<string, number>();
    const byPath = new Map<string, number>();
    for (const key of await this.#view.list('id/')) {
      const entry = this.#cache.get(key) ?? (await getJSON<TokenEntry>(this.#view, `id/${key}`));
      if (!entry || !this.#live({ ...ENTRY_DEFAULTS, ...entry })) continue;
      tokens++;
      for (const p of entry.policies) byPolicy.set(p, (byPolicy.get(p) ?? 0) + 1);
      byPath.set(entry.path, (byPath.get(entry.path) ?? 0) + 1);
    }
    return { tokens, byPolicy, byPath };
  }

  /** Every accessor (for auth/token/accessors). */
  async accessors(): Promise<string[]> {
    const out: string[] = [];
    for (const key of await this.#view.list('id/')) {
      const entry = await this.#load(key);
      if (entry && this.#live(entry)) out.push(entry.accessor);
    }
    return out.sort();
  }

  /** Extend a token's TTL, within its max TTLs. Returns the entry and any warning. */
  async renew(id: string, limits: RenewLimits): Promise<{ entry: TokenEntry; warnings: string[] }> {
    return this.#mutex.run(id, async () => {
      const entry = await this.#load(id);
      if (!entry || !this.#live(entry)) throw new CofferError('invalid_request', 'invalid token');
      if (!entry.renewable) throw badRequest('lease is not renewable');
      const now = this.#clock.now();
      const period = limits.period ?? entry.period;
      let ttl = period > 0 ? period : limits.increment > 0 ? limits.increment : entry.creationTtl;
      const warnings: string[] = [];
      const caps: number[] = [];
      if (period === 0 && limits.maxTtl > 0) caps.push(entry.creationTime * 1000 + limits.maxTtl * 1000);
      if (entry.explicitMaxTtl > 0) caps.push(entry.creationTime * 1000 + entry.explicitMaxTtl * 1000);
      const hardStop = caps.length ? Math.min(...caps) : Infinity;
      if (now + ttl * 1000 > hardStop) {
        const capped = Math.max(0, Math.floor((hardStop - now) / 1000));
        warnings.push(`TTL of "${ttl}s" exceeded the effective max_ttl of "${capped}s"; TTL value is capped accordingly`);
        ttl = capped;
      }
      const renewed: TokenEntry = { ...entry, ttl, period, lastRenewal: now, expireAt: now + ttl * 1000 };
      await this.#save(renewed);
      this.#schedule(renewed.expireAt, id);
      return { entry: renewed, warnings };
    });
  }

  /** Revoke a token and every token descended from it, children first. */
  async revokeTree(id: string): Promise<void> {
    for (const child of await this.#view.list(`parent/${id}/`)) await this.revokeTree(child);
    await this.#revokeOne(id);
  }

  /** Revoke a token but keep its children, which become orphans. */
  async revokeOrphan(id: string): Promise<void> {
    for (const child of await this.#view.list(`parent/${id}/`)) {
      await this.#mutex.run(child, async () => {
        const entry = await this.#load(child);
        const orphan = entry ? { ...entry, parent: '' } : null;
        await this.#view.transaction([...(orphan ? [putJSONOp(`id/${child}`, orphan)] : []), deleteOp(`parent/${id}/${child}`)]);
        if (orphan) this.#remember(orphan);
      });
    }
    await this.#revokeOne(id);
  }

  async #revokeOne(id: string): Promise<void> {
    const entry = await getJSON<TokenEntry>(this.#view, `id/${id}`);
    this.#cache.delete(id);
    if (!entry) return;
    await this.#onRevoke(entry);
    await this.#view.transaction([
      deleteOp(this.#accessorKey(entry.accessor)),
      ...(entry.parent ? [deleteOp(`parent/${entry.parent}/${id}`)] : []),
      deleteOp(`id/${id}`),
    ]);
    this.#cache.delete(id);
  }

  #live(entry: TokenEntry): boolean {
    if (entry.numUses === -1) return false;
    return entry.expireAt === 0 || entry.expireAt > this.#clock.now();
  }

  async #load(id: string): Promise<TokenEntry | null> {
    if (!/^[0-9a-f]{64}$/.test(id)) return null;
    const cached = this.#cache.get(id);
    if (cached) return cached;
    const stored = await getJSON<TokenEntry>(this.#view, `id/${id}`);
    if (!stored) return null;
    const entry: TokenEntry = { ...ENTRY_DEFAULTS, ...stored };
    this.#remember(entry);
    return entry;
  }

  async #save(entry: TokenEntry): Promise<void> {
    await putJSON(this.#view, `id/${entry.id}`, entry);
    this.#remember(entry);
  }

  #remember(entry: TokenEntry): void {
    this.#cache.set(entry.id, entry);
  }

  #schedule(due: number, id: string): void {
    this.#expiry.push(due, id);
    const head = this.#expiry.peek();
    if (head && head.due === due) this.#armTimer();
  }

  #armTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const head = this.#expiry.peek();
    if (!head || !this.#salt) return;
    // Timers longer than ~24.8 days overflow; re-arm in steps.
    const delay = Math.min(Math.max(0, head.due - this.#clock.now()), 2 ** 31 - 1);
    this.#timer = setTimeout(() => this.sweep().catch((e: unknown) => this.#onError('token expiry sweep failed', e)), delay);
    this.#timer.unref();
  }

  /** Revoke every token whose expiry has passed. Runs from the timer; tests call it directly. */
  async sweep(): Promise<void> {
    const now = this.#clock.now();
    for (let head = this.#expiry.peek(); head && head.due <= now; head = this.#expiry.peek()) {
      this.#expiry.pop();
      try {
        const entry = await getJSON<TokenEntry>(this.#view, `id/${head.key}`);
        // Skip stale heap entries: the token was renewed (later expiry) or is already gone.
        if (entry && entry.expireAt !== 0 && entry.expireAt <= now) await this.revokeTree(head.key);
      } catch (e) {
        if (!this.#salt) return; // sealed while sweeping
        this.#onError('failed to revoke an expired token; will retry', e);
        this.#expiry.push(now + 10_000, head.key);
      }
    }
    this.#armTimer();
  }
}
