import type { Backend, RenewContext, RenewTtl, SecretContext } from '../../framework/index.js';
import {
  CofferError, badRequest, deleteOp, getJSON, listRecursive, putJSONOp,
  type LeaseInfo, type SecretLease, type StorageOp, type StorageView, type SystemView,
} from '../../logical/index.js';
import { type Clock, KeyedMutex, type Logger } from '../../util/index.js';
import { DueWindow } from './due-window.js';
import { dueOf, keys, parseDueLeaf, randomLeaseSuffix, type LeaseEntry } from './lease-entry.js';

/** The mount a lease belongs to, as the router finds it from the lease's path. */
export interface LeaseRoute {
  readonly backend: Backend;
  readonly view: StorageView;
  readonly system: SystemView;
  /** The mount's request path prefix ("database/"). */
  readonly prefix: string;
  readonly accessor: string;
}

/** How failed revocations are retried: exponential backoff, then irrevocable. Seconds. */
export interface RevocationPolicy {
  readonly maxAttempts: number;
  readonly initialBackoff: number;
  readonly maxBackoff: number;
}

/** Vault retries six times over about a minute; these defaults outlast a 20-minute outage (vault#8602). */
export const DEFAULT_REVOCATION: RevocationPolicy = { maxAttempts: 10, initialBackoff: 10, maxBackoff: 600 };

export interface ExpirationOptions {
  /** The barrier view the manager owns (sys/expire/). */
  readonly view: StorageView;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The mount serving a lease's path, or null when none does. */
  readonly route: (path: string) => LeaseRoute | null;
  /** True while the token with this hash is live (for tidy). */
  readonly tokenLive: (tokenHash: string) => Promise<boolean>;
  readonly revocation: RevocationPolicy;
  /** Upcoming expirations kept in memory (default 2048); the rest are read from storage when due. */
  readonly window?: number;
  /** Revocations run at once (default 16). */
  readonly concurrency?: number;
  /** Told how long each revocation through a backend took, in milliseconds (vault.expire.revoke). */
  readonly revoked?: (ms: number) => void;
  /** Told when a lease comes to exist at a path (+1) or goes (-1): the lease count quotas. */
  readonly counted?: (path: string, delta: 1 | -1) => void;
}

export interface RevokeOptions {
  /** Delete the lease even when the backend could not revoke the secret (revoke-force). */
  readonly force?: boolean;
  /** Answer with the error of a failed revocation instead of leaving it to the retries. */
  readonly sync?: boolean;
}

export interface IrrevocableLease {
  readonly lease_id: string;
  readonly mount_id: string;
  readonly error: string;
  readonly expire_time: string;
}

/**
 * Leases: registered for every secret a response carries, renewed through the owning backend's
 * renew handler, and revoked through its revoke handler (found by routing the lease's path to
 * its mount) when they expire, when their token is revoked, or when an operator asks. A failed
 * revocation is retried with exponential backoff and, after `maxAttempts`, kept as irrevocable
 * with its error; no lease is ever dropped silently. Everything is in storage (the lease, an
 * index by due time, an index by token); memory holds only a bounded window of what is due next.
 */
export class ExpirationManager {
  readonly #opts: ExpirationOptions;
  readonly #view: StorageView;
  readonly #window: DueWindow;
  readonly #mutex = new KeyedMutex();
  readonly #concurrency: number;
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  #sweep: Promise<void> | null = null;
  #sweepAgain = false;

  constructor(opts: ExpirationOptions) {
    const { maxAttempts, initialBackoff, maxBackoff } = opts.revocation;
    if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`revocation maxAttempts must be a positive integer, got ${maxAttempts}`);
    if (!(initialBackoff > 0) || !(maxBackoff >= initialBackoff)) throw new RangeError('revocation backoff must be positive, and its maximum at least its initial value');
    this.#opts = opts;
    this.#view = opts.view;
    this.#window = new DueWindow(opts.view, opts.window ?? 2048);
    this.#concurrency = opts.concurrency ?? 16;
  }

  /** Start expiring (at unseal, once the mounts are loaded): what fell due while sealed goes first. */
  async start(): Promise<void> {
    this.#window.reset();
    this.#running = true;
    await this.#window.refill();
    this.#arm();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#window.reset();
  }

  /** Leases in the in-memory window (for tests and telemetry). */
  get windowSize(): number {
    return this.#window.size;
  }

  /**
   * Persist a lease for a secret a backend just minted and answer with the envelope's lease
   * fields. If it cannot be persisted, the secret is revoked at once: nothing is issued that the
   * server would forget.
   */
  async register(input: { readonly path: string; readonly route: LeaseRoute; readonly secret: SecretLease; readonly tokenHash: string }): Promise<LeaseInfo> {
    const { path, route, secret, tokenHash } = input;
    const type = route.backend.secretType(secret.type);
    if (!type) throw new CofferError('internal', `backend of ${route.prefix} returned a secret of undeclared type ${secret.type}`);
    const ttl = initialTtl(secret, route.system);
    const now = this.#opts.clock.now();
    const entry: LeaseEntry = {
      id: `${path}/${randomLeaseSuffix()}`,
      path,
      mount: route.prefix,
      mountAccessor: route.accessor,
      secretType: secret.type,
      internalData: secret.internalData,
      tokenHash,
      issueTime: now,
      expireTime: now + ttl * 1000,
      lastRenewal: 0,
      renewable: type.renewable,
    };
    try {
      await this.#view.transaction([
        putJSONOp(keys.entry(entry.id), entry),
        dueRow(entry.id, entry.expireTime),
        ...(tokenHash ? [emptyRow(keys.token(tokenHash, entry.id))] : []),
      ]);
    } catch (e) {
      await type.revoke(this.#secretContext(entry, route)).catch((revokeError: unknown) => {
        this.#opts.logger.error('a secret whose lease could not be stored could not be revoked either', { lease_id: entry.id, error: messageOf(revokeError) });
      });
      throw e;
    }
    this.#indexed(entry.id, entry.expireTime);
    this.#opts.counted?.(entry.path, 1);
    return { id: entry.id, duration: ttl, renewable: type.renewable };
  }

  async lookup(id: string): Promise<LeaseEntry | null> {
    return getJSON<LeaseEntry>(this.#view, keys.entry(id));
  }

  /** Lease ids and folders directly under prefix ("" or ending in "/"). */
  async list(prefix: string): Promise<string[]> {
    return this.#view.list(keys.entry(prefix));
  }

  /** Extend a lease through its backend's renew handler, within the role's and the mount's max TTL. */
  async renew(id: string, increment: number): Promise<{ lease: LeaseInfo; warnings: readonly string[] }> {
    return this.#mutex.run(id, async () => {
      const entry = await this.lookup(id);
      if (!entry) throw badRequest('lease not found');
      const now = this.#opts.clock.now();
      if (entry.revoke) throw badRequest(entry.revoke.irrevocable ? 'lease is irrevocable: it expired and could not be revoked' : 'lease expired');
      if (entry.expireTime <= now) throw badRequest('lease expired');
      const route = this.#opts.route(entry.path);
      const type = route?.backend.secretType(entry.secretType);
      if (!route || !type?.renew || !entry.renewable) throw badRequest('lease is not renewable');
      const ctx: RenewContext = {
        ...this.#secretContext(entry, route),
        increment,
        ttlWithin: (limits) => renewTtl({ now, issueTime: entry.issueTime, increment, limits, system: route.system }),
      };
      const result = await type.renew(ctx);
      // Whatever the backend answers, a lease never outlives the mount's max TTL from issue.
      const ttl = Math.min(result.ttl, Math.floor((entry.issueTime + route.system.maxLeaseTtl() * 1000 - now) / 1000));
      if (ttl <= 0) throw badRequest('past the max TTL, cannot renew');
      const expireTime = now + ttl * 1000;
      const renewed: LeaseEntry = { ...entry, expireTime, lastRenewal: now };
      await this.#view.transaction([putJSONOp(keys.entry(id), renewed), deleteOp(keys.due(id, entry.expireTime)), dueRow(id, expireTime)]);
      this.#indexed(id, expireTime);
      return { lease: { id, duration: ttl, renewable: true }, warnings: result.warnings ?? [] };
    });
  }

  /** Revoke one lease now. Unknown leases are already revoked. */
  async revoke(id: string, opts: RevokeOptions = {}): Promise<void> {
    await this.#mutex.run(id, async () => {
      const entry = await this.lookup(id);
      if (entry) await this.#revoke(entry, opts);
    });
  }

  /**
   * Revoke every lease under prefix. A prefix without a trailing slash that is itself a lease id
   * revokes that lease (as Vault does); otherwise it names a folder.
   */
  async revokePrefix(prefix: string, opts: RevokeOptions = {}): Promise<void> {
    if (prefix !== '' && !prefix.endsWith('/')) {
      if (await this.lookup(prefix)) return this.revoke(prefix, opts);
      prefix = `${prefix}/`;
    }
    const ids = await this.#idsUnder(prefix);
    const failures: string[] = [];
    await pool(ids, this.#concurrency, async (id) => {
      try {
        await this.revoke(id, opts);
      } catch (e) {
        failures.push(messageOf(e));
      }
    });
    if (failures.length > 0) {
      throw badRequest(`failed to revoke ${failures.length} of ${ids.length} leases under "${prefix}": ${failures[0]}`);
    }
  }

  /** Revoke the leases a token asked for (called for each token revoked, children included). */
  async revokeByToken(tokenHash: string): Promise<void> {
    const leaves = await this.#view.list(`token/${tokenHash}/`);
    await pool(leaves, this.#concurrency, async (leaf) => {
      await this.revoke(decodeURIComponent(leaf));
    });
  }

  /** Move every lease of a mount to its new path (sys/remount), each lease in one transaction. */
  async rekey(from: string, to: string): Promise<void> {
    for (const id of await this.#idsUnder(from)) {
      const rel = id.slice(from.length);
      await this.#mutex.run(id, async () => {
        const entry = await this.lookup(id);
        if (!entry) return;
        const moved: LeaseEntry = { ...entry, id: to + rel, path: to + entry.path.slice(from.length), mount: to };
        await this.#view.transaction([...this.#removal(entry), ...this.#rows(moved)]);
        this.#opts.counted?.(entry.path, -1);
        this.#opts.counted?.(moved.path, 1);
        const due = dueOf(moved);
        if (due !== null) this.#indexed(moved.id, due);
      });
    }
  }

  /** Irrevocable leases, oldest first by id, at most `limit` of them, and how many there are. */
  async irrevocable(limit: number): Promise<{ leases: IrrevocableLease[]; total: number }> {
    const leaves = await this.#view.list('irrevocable/');
    const leases: IrrevocableLease[] = [];
    for (const leaf of leaves.slice(0, limit)) {
      const entry = await this.lookup(decodeURIComponent(leaf));
      if (entry?.revoke) {
        leases.push({ lease_id: entry.id, mount_id: entry.mountAccessor, error: entry.revoke.error, expire_time: new Date(entry.expireTime).toISOString() });
      }
    }
    return { leases, total: leaves.length };
  }

  /** How many irrevocable leases there are, in all and per mount accessor. */
  async irrevocableCounts(): Promise<{ total: number; counts: Record<string, number> }> {
    const counts: Record<string, number> = {};
    let total = 0;
    for (const leaf of await this.#view.list('irrevocable/')) {
      const entry = await this.lookup(decodeURIComponent(leaf));
      if (!entry) continue;
      total++;
      counts[entry.mountAccessor] = (counts[entry.mountAccessor] ?? 0) + 1;
    }
    return { total, counts };
  }

  /**
   * Vault's sys/leases/tidy: revoke leases whose token is gone, and remove index rows that name
   * no lease (or not its current due time).
   */
  async tidy(): Promise<{ revoked: number; removedRows: number }> {
    let revoked = 0;
    let removedRows = 0;
    for (const id of await this.#idsUnder('')) {
      const entry = await this.lookup(id);
      if (entry?.tokenHash && !(await this.#opts.tokenLive(entry.tokenHash))) {
        await this.revoke(id);
        revoked++;
      }
    }
    for (const row of await listRecursive(this.#view, 'due/')) {
      const { due, id } = parseDueLeaf(row.slice(row.lastIndexOf('/') + 1));
      const entry = await this.lookup(id);
      if (!entry || dueOf(entry) !== due) {
        await this.#view.delete(row);
        removedRows++;
      }
    }
    for (const row of await listRecursive(this.#view, 'token/')) {
      const [, tokenHash, leaf] = row.split('/') as [string, string, string];
      const entry = await this.lookup(decodeURIComponent(leaf));
      if (!entry || entry.tokenHash !== tokenHash) {
        await this.#view.delete(row);
        removedRows++;
      }
    }
    return { revoked, removedRows };
  }

  /** How many leases there are (the usage gauge vault.expire.num_leases). */
  async count(): Promise<number> {
    return (await this.#idsUnder('')).length;
  }

  /** How many leases there are whose path starts with prefix (any prefix, not only a folder). */
  async countUnder(prefix: string): Promise<number> {
    const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    return (await this.#idsUnder(folder)).filter((id) => id.startsWith(prefix)).length;
  }

  /** Every lease id under a prefix ("" or ending in "/"). */
  async #idsUnder(prefix: string): Promise<string[]> {
    return (await listRecursive(this.#view, keys.entry(prefix))).map((key) => key.slice('id/'.length));
  }

  /** Revoke every lease due now; the timer runs this, tests call it directly. */
  async sweep(): Promise<void> {
    if (this.#sweep) {
      this.#sweepAgain = true;
      return this.#sweep;
    }
    const run = async () => {
      do {
        this.#sweepAgain = false;
        await this.#drain();
      } while (this.#sweepAgain && this.#running);
    };
    this.#sweep = run().finally(() => {
      this.#sweep = null;
      this.#arm();
    });
    return this.#sweep;
  }

  async #drain(): Promise<void> {
    while (this.#running) {
      await this.#window.refill();
      const now = this.#opts.clock.now();
      const batch: string[] = [];
      for (let head = this.#window.peek(); head && head.due <= now; head = this.#window.peek()) batch.push(this.#window.pop()!.key);
      if (batch.length === 0) return;
      await pool(batch, this.#concurrency, (id) => this.#expire(id, now));
    }
  }

  async #expire(id: string, now: number): Promise<void> {
    try {
      await this.#mutex.run(id, async () => {
        const entry = await this.lookup(id);
        const due = entry ? dueOf(entry) : null;
        // A stale window entry: the lease was renewed, rescheduled or revoked since.
        if (!entry || due === null || due > now) return;
        await this.#revoke(entry, {});
      });
    } catch (e) {
      if (this.#running) this.#opts.logger.error('lease expiry failed', { lease_id: id, error: messageOf(e) });
    }
  }

  /** One revocation attempt; a failure is recorded for a retry (or as irrevocable) unless forced. */
  async #revoke(entry: LeaseEntry, opts: RevokeOptions): Promise<void> {
    const t0 = performance.now();
    try {
      const route = this.#opts.route(entry.path);
      const type = route?.backend.secretType(entry.secretType);
      if (!route || !type) throw new CofferError('internal', `no mount serves ${entry.mount} with secret type ${entry.secretType}`);
      await type.revoke(this.#secretContext(entry, route));
      this.#opts.revoked?.(performance.now() - t0);
    } catch (e) {
      if (!this.#running) throw e;
      if (!opts.force) {
        await this.#failed(entry, e);
        if (opts.sync) throw badRequest(`failed to revoke lease: ${messageOf(e)}`);
        return;
      }
      this.#opts.logger.warn('lease force-revoked although its secret could not be revoked', { lease_id: entry.id, error: messageOf(e) });
    }
    await this.#view.transaction(this.#removal(entry));
    this.#opts.counted?.(entry.path, -1);
  }

  async #failed(entry: LeaseEntry, e: unknown): Promise<void> {
    const { maxAttempts, initialBackoff, maxBackoff } = this.#opts.revocation;
    const attempts = (entry.revoke?.attempts ?? 0) + 1;
    const irrevocable = entry.revoke?.irrevocable === true || attempts >= maxAttempts;
    const backoff = Math.min(initialBackoff * 2 ** (attempts - 1), maxBackoff);
    const nextAttempt = irrevocable ? 0 : this.#opts.clock.now() + backoff * 1000;
    const failed: LeaseEntry = { ...entry, revoke: { attempts, error: messageOf(e), nextAttempt, irrevocable } };
    await this.#view.transaction([...this.#removal(entry), ...this.#rows(failed)]);
    const due = dueOf(failed);
    if (due !== null) this.#indexed(entry.id, due);
    const log = { lease_id: entry.id, attempts, error: messageOf(e) };
    if (irrevocable) this.#opts.logger.error('lease is irrevocable: revocation failed and its retries are spent', log);
    else this.#opts.logger.warn(`lease revocation failed; retrying in ${backoff}s`, log);
  }

  /** The rows a lease keeps in storage: its entry, its due row or irrevocable mark, its token row. */
  #rows(entry: LeaseEntry): StorageOp[] {
    const due = dueOf(entry);
    return [
      putJSONOp(keys.entry(entry.id), entry),
      due === null ? emptyRow(keys.irrevocable(entry.id)) : dueRow(entry.id, due),
      ...(entry.tokenHash ? [emptyRow(keys.token(entry.tokenHash, entry.id))] : []),
    ];
  }

  /** Deletes of every row `#rows` wrote for this entry. */
  #removal(entry: LeaseEntry): StorageOp[] {
    const due = dueOf(entry);
    return [
      deleteOp(keys.entry(entry.id)),
      deleteOp(due === null ? keys.irrevocable(entry.id) : keys.due(entry.id, due)),
      ...(entry.tokenHash ? [deleteOp(keys.token(entry.tokenHash, entry.id))] : []),
    ];
  }

  #secretContext(entry: LeaseEntry, route: LeaseRoute): SecretContext {
    return {
      storage: route.view,
      system: route.system,
      internalData: entry.internalData,
      lease: { id: entry.id, issueTime: entry.issueTime, expireTime: entry.expireTime, lastRenewal: entry.lastRenewal },
    };
  }

  #indexed(id: string, due: number): void {
    const before = this.#window.peek()?.due;
    this.#window.indexed(id, due);
    if (before === undefined || due < before) this.#arm();
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#running || this.#sweep) return; // a running sweep re-arms when it ends
    const head = this.#window.peek();
    if (!head) return;
    // Timers longer than ~24.8 days overflow; re-arm in steps.
    const delay = Math.min(Math.max(0, head.due - this.#opts.clock.now()), 2 ** 31 - 1);
    this.#timer = setTimeout(() => {
      this.sweep().catch((e: unknown) => this.#opts.logger.error('lease expiry sweep failed', { error: messageOf(e) }));
    }, delay);
    this.#timer.unref();
  }
}

function emptyRow(key: string): StorageOp {
  return { op: 'put', key, value: new Uint8Array(0) };
}

function dueRow(id: string, due: number): StorageOp {
  return emptyRow(keys.due(id, due));
}

/** A new lease's TTL: what the backend asked for (else the mount's default), within the caps. */
function initialTtl(secret: SecretLease, system: SystemView): number {
  const ttl = secret.ttl > 0 ? secret.ttl : system.defaultLeaseTtl();
  return Math.max(1, Math.min(ttl, secret.maxTtl && secret.maxTtl > 0 ? secret.maxTtl : Infinity, system.maxLeaseTtl()));
}

/** Vault's CalculateTTL for a renewal: the increment (else the backend's TTL, else the mount's), capped from issue time. */
export function renewTtl(input: {
  readonly now: number;
  readonly issueTime: number;
  readonly increment: number;
  readonly limits: { readonly ttl?: number; readonly maxTtl?: number };
  readonly system: SystemView;
}): RenewTtl {
  const { now, issueTime, increment, limits, system } = input;
  let ttl = increment > 0 ? increment : limits.ttl && limits.ttl > 0 ? limits.ttl : system.defaultLeaseTtl();
  const maxTtl = Math.min(limits.maxTtl && limits.maxTtl > 0 ? limits.maxTtl : Infinity, system.maxLeaseTtl());
  const hardStop = issueTime + maxTtl * 1000;
  const warnings: string[] = [];
  if (now + ttl * 1000 > hardStop) {
    const capped = Math.floor((hardStop - now) / 1000);
    warnings.push(`TTL of "${ttl}s" exceeded the effective max_ttl of "${capped}s"; TTL value is capped accordingly`);
    ttl = capped;
  }
  if (ttl <= 0) throw badRequest('past the max TTL, cannot renew');
  return { ttl, expireTime: now + ttl * 1000, warnings };
}

/** A failure's message for the lease record and the log: a CofferError's, an Error's, never a stack. */
function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return 'revocation failed';
}

/** Run fn over items with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

