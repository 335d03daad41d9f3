import { badRequest, CofferError, getJSON, putJSON, type StorageView } from '../../logical/index.js';
import type { Clock } from '../../util/index.js';

export interface RateLimitQuota {
  readonly name: string;
  readonly type: 'rate-limit';
  /** "" (every request), a mount ("kv/") or a path under one ("kv/data/app"; a trailing "*" is a prefix). */
  readonly path: string;
  /** A login role of an auth mount: the quota applies to logins with that role only. */
  readonly role: string;
  /** Requests allowed per interval, from each client address. */
  readonly rate: number;
  /** Seconds. */
  readonly interval: number;
  /** Seconds a client that went over is refused for; 0 for none. */
  readonly block_interval: number;
  readonly inheritable: boolean;
}

export interface LeaseCountQuota {
  readonly name: string;
  readonly type: 'lease-count';
  readonly path: string;
  readonly role: string;
  readonly max_leases: number;
  readonly inheritable: boolean;
}

export type Quota = RateLimitQuota | LeaseCountQuota;
export type QuotaType = Quota['type'];

export interface QuotaConfig {
  readonly enable_rate_limit_audit_logging: boolean;
  readonly enable_rate_limit_response_headers: boolean;
  readonly rate_limit_exempt_paths: readonly string[];
  readonly absolute_rate_limit_exempt_paths: readonly string[];
}

/** Vault's default exemptions: what an operator needs to get a sealed or locked-out server back. */
export const DEFAULT_EXEMPT_PATHS: readonly string[] = [
  'sys/generate-recovery-token/attempt',
  'sys/generate-recovery-token/update',
  'sys/generate-root/attempt',
  'sys/generate-root/update',
  'sys/health',
  'sys/seal-status',
  'sys/unseal',
];

const DEFAULT_CONFIG: QuotaConfig = {
  enable_rate_limit_audit_logging: false,
  enable_rate_limit_response_headers: false,
  rate_limit_exempt_paths: DEFAULT_EXEMPT_PATHS,
  absolute_rate_limit_exempt_paths: [],
};

/** What a request is checked against: its path, who sent it, and the role a login names. */
export interface QuotaRequest {
  readonly path: string;
  readonly remoteAddress: string;
  /** The `role` a login names, "" otherwise. */
  readonly role: string;
  /** Whether this request may create a lease (a read, write or login, not a list or delete). */
  readonly mayLease: boolean;
}

/** The answer to a request that passed: headers to send, and a lease slot to give back. */
export interface QuotaPass {
  readonly headers: Readonly<Record<string, string>> | null;
  /** Give back the slot a lease-creating request held while it ran. */
  release(): void;
}

/** A refusal: the 429, and whether it is audited (enable_rate_limit_audit_logging). */
export class QuotaRefusal extends CofferError {
  constructor(
    message: string,
    readonly audited: boolean,
    headers: Readonly<Record<string, string>>,
  ) {
    super('rate_limited', message, { headers });
  }
}

interface Bucket {
  tokens: number;
  updated: number;
  blockedUntil: number;
}

const NO_PASS: QuotaPass = { headers: null, release: () => {} };
/** Client buckets kept per quota at most; beyond it the idle ones go first. */
const MAX_BUCKETS = 100_000;

const CONFIG_KEY = 'config';
const storedKey = (type: QuotaType, name: string) => `${type}/${name}`;

/** How specific a quota's path is for a request: -1 when it does not apply; longer paths and a role win. */
function specificity(q: Quota, r: QuotaRequest): number {
  if (q.role !== '' && q.role !== r.role) return -1;
  const roleBonus = q.role !== '' ? 0.5 : 0;
  if (q.path === '') return roleBonus;
  if (q.path.endsWith('*')) return r.path.startsWith(q.path.slice(0, -1)) ? q.path.length + roleBonus : -1;
  if (q.path.endsWith('/')) return r.path.startsWith(q.path) || `${r.path}/` === q.path ? q.path.length + roleBonus : -1;
  return r.path === q.path || r.path.startsWith(`${q.path}/`) ? q.path.length + 1 + roleBonus : -1;
}

function exempt(paths: readonly string[], path: string): boolean {
  return paths.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p || path === `${p}/`));
}

/**
 * Resource quotas (sys/quotas/*): rate limits per client address, and lease counts. A request is
 * checked before anything is spent on it (token lookup, audit, the backend): against the most
 * specific rate limit that covers its path, and, when it may create a lease, against the most
 * specific lease count quota, which holds a slot for it while it runs so that parallel requests
 * cannot overshoot max_leases together.
 */
export class QuotaManager {
  readonly #view: StorageView;
  readonly #clock: Clock;
  /** Leases and tokens that exist now under a path prefix: counted at load, then kept up. */
  readonly #countUnder: (path: string) => Promise<number>;
  #config: QuotaConfig = DEFAULT_CONFIG;
  readonly #rate = new Map<string, { quota: RateLimitQuota; buckets: Map<string, Bucket> }>();
  /** Kept in place when a quota is rewritten: a request in flight gives its slot back to the same entry. */
  readonly #lease = new Map<string, { quota: LeaseCountQuota; count: number; pending: number }>();

  constructor(deps: { view: StorageView; clock: Clock; countUnder: (path: string) => Promise<number> }) {
    this.#view = deps.view;
    this.#clock = deps.clock;
    this.#countUnder = deps.countUnder;
  }

  async load(): Promise<void> {
    this.reset();
    this.#config = { ...DEFAULT_CONFIG, ...((await getJSON<QuotaConfig>(this.#view, CONFIG_KEY)) ?? {}) };
    for (const name of await this.#view.list('rate-limit/')) {
      const q = await getJSON<RateLimitQuota>(this.#view, `rate-limit/${name}`);
      if (q) this.#rate.set(q.name, { quota: q, buckets: new Map() });
    }
    for (const name of await this.#view.list('lease-count/')) {
      const q = await getJSON<LeaseCountQuota>(this.#view, `lease-count/${name}`);
      if (q) this.#lease.set(q.name, { quota: q, count: await this.#countUnder(prefixOf(q.path)), pending: 0 });
    }
  }

  reset(): void {
    this.#config = DEFAULT_CONFIG;
    this.#rate.clear();
    this.#lease.clear();
  }

  config(): QuotaConfig {
    return this.#config;
  }

  async setConfig(change: Partial<QuotaConfig>): Promise<void> {
    const next = { ...this.#config, ...change };
    await putJSON(this.#view, CONFIG_KEY, next);
    this.#config = next;
  }

  names(type: QuotaType): string[] {
    return [...(type === 'rate-limit' ? this.#rate.keys() : this.#lease.keys())].sort();
  }

  get(type: QuotaType, name: string): (Quota & { counter?: number }) | null {
    if (type === 'rate-limit') return this.#rate.get(name)?.quota ?? null;
    const l = this.#lease.get(name);
    return l ? { ...l.quota, counter: l.count } : null;
  }

  async set(quota: Quota): Promise<void> {
    const same = this.#all().find((q) => q.type === quota.type && q.name !== quota.name && q.path === quota.path && q.role === quota.role);
    if (same) throw badRequest(`quota rule with similar properties exists under the name "${same.name}"`);
    await putJSON(this.#view, storedKey(quota.type, quota.name), quota);
    if (quota.type === 'rate-limit') this.#rate.set(quota.name, { quota, buckets: new Map() });
    else {
      const count = await this.#countUnder(prefixOf(quota.path));
      const held = this.#lease.get(quota.name);
      if (held) Object.assign(held, { quota, count });
      else this.#lease.set(quota.name, { quota, count, pending: 0 });
    }
  }

  async delete(type: QuotaType, name: string): Promise<void> {
    await this.#view.delete(storedKey(type, name));
    if (type === 'rate-limit') this.#rate.delete(name);
    else this.#lease.delete(name);
  }

  /** A mount went: so do the quotas on it and under it (as in Vault). */
  async mountRemoved(prefix: string): Promise<void> {
    for (const q of this.#all()) if (q.path.startsWith(prefix)) await this.delete(q.type, q.name);
  }

  /** A mount moved: its quotas move with it (as in Vault). */
  async mountMoved(from: string, to: string): Promise<void> {
    for (const q of this.#all()) if (q.path.startsWith(from)) await this.set({ ...q, path: to + q.path.slice(from.length) });
  }

  #all(): Quota[] {
    return [...[...this.#rate.values()].map((x) => x.quota), ...[...this.#lease.values()].map((x) => x.quota)];
  }

  /** Check a request; throws a QuotaRefusal (429) when a quota refuses it. */
  check(r: QuotaRequest): QuotaPass {
    if (this.#rate.size === 0 && this.#lease.size === 0) return NO_PASS;
    let headers: Record<string, string> | null = null;
    if (this.#rate.size > 0 && !exempt(this.#config.absolute_rate_limit_exempt_paths, r.path) && !exempt(this.#config.rate_limit_exempt_paths, r.path)) {
      const hit = this.#mostSpecific([...this.#rate.values()], (x) => x.quota, r);
      if (hit) headers = this.#take(hit, r);
    }
    if (!r.mayLease || this.#lease.size === 0) return headers ? { headers, release: () => {} } : NO_PASS;
    const lease = this.#mostSpecific([...this.#lease.values()], (x) => x.quota, r);
    if (!lease) return headers ? { headers, release: () => {} } : NO_PASS;
    if (lease.count + lease.pending >= lease.quota.max_leases) throw new QuotaRefusal(`request path "${r.path}": lease count quota exceeded`, true, {});
    lease.pending++;
    let released = false;
    return {
      headers,
      release: () => {
        if (released) return;
        released = true;
        lease.pending--;
      },
    };
  }

  /** A lease (or a login's token) came to exist at path, or went. */
  counted(path: string, delta: 1 | -1): void {
    for (const l of this.#lease.values()) {
      if (path.startsWith(prefixOf(l.quota.path))) l.count = Math.max(0, l.count + delta);
    }
  }

  #mostSpecific<T>(items: readonly T[], quotaOf: (x: T) => Quota, r: QuotaRequest): T | null {
    let best: T | null = null;
    let bestScore = -1;
    for (const x of items) {
      const score = specificity(quotaOf(x), r);
      if (score > bestScore) {
        best = x;
        bestScore = score;
      }
    }
    return best;
  }

  /** Take one request from the client's bucket (refilled at rate per interval), or refuse. */
  #take(hit: { quota: RateLimitQuota; buckets: Map<string, Bucket> }, r: QuotaRequest): Record<string, string> | null {
    const q = hit.quota;
    const now = this.#clock.now();
    const perMs = q.rate / (q.interval * 1000);
    const capacity = Math.max(q.rate, 1);
    let b = hit.buckets.get(r.remoteAddress);
    if (!b) {
      if (hit.buckets.size >= MAX_BUCKETS) prune(hit.buckets, now, capacity, perMs);
      b = { tokens: capacity, updated: now, blockedUntil: 0 };
      hit.buckets.set(r.remoteAddress, b);
    }
    b.tokens = Math.min(capacity, b.tokens + (now - b.updated) * perMs);
    b.updated = now;
    const showHeaders = this.#config.enable_rate_limit_response_headers;
    const reset = Math.ceil(now / 1000 + (capacity - b.tokens) / perMs / 1000);
    const limitHeaders = (remaining: number): Record<string, string> => ({ 'X-Ratelimit-Limit': String(q.rate), 'X-Ratelimit-Remaining': String(Math.max(0, Math.floor(remaining))), 'X-Ratelimit-Reset': String(reset) });
    if (now < b.blockedUntil || b.tokens < 1) {
      if (now >= b.blockedUntil && q.block_interval > 0) b.blockedUntil = now + q.block_interval * 1000;
      const waitMs = now < b.blockedUntil ? b.blockedUntil - now : (1 - b.tokens) / perMs;
      const headers = { 'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))), ...(showHeaders ? limitHeaders(0) : {}) };
      throw new QuotaRefusal(`request path "${r.path}": rate limit quota exceeded`, this.#config.enable_rate_limit_audit_logging, headers);
    }
    b.tokens -= 1;
    return showHeaders ? limitHeaders(b.tokens) : null;
  }
}

/** The storage path prefix leases and tokens under a quota's path have. */
function prefixOf(path: string): string {
  return path.endsWith('*') ? path.slice(0, -1) : path;
}

/** Drop the buckets that have refilled (they hold nothing a new bucket would not). */
function prune(buckets: Map<string, Bucket>, now: number, capacity: number, perMs: number): void {
  for (const [k, b] of buckets) {
    if (now >= b.blockedUntil && b.tokens + (now - b.updated) * perMs >= capacity) buckets.delete(k);
  }
  // Still full: the oldest go (a Map keeps insertion order).
  for (const k of buckets.keys()) {
    if (buckets.size < MAX_BUCKETS) break;
    buckets.delete(k);
  }
}
