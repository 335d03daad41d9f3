import { badRequest, getJSON, putJSON, type StorageView } from '../../logical/index.js';
import { compileAcl, type Acl } from './acl.js';
import { DEFAULT_POLICY } from './builtin.js';
import { parsePolicy, type Policy } from './policy.js';
import { resolvePolicy, type TemplateIdentity } from './template.js';

interface StoredPolicy {
  name: string;
  raw: string;
}

const ROOT: Policy = { name: 'root', raw: '', rules: [], templated: false };

/** Told how long each operation took, in milliseconds (telemetry's vault.policy.*). */
export interface PolicyTimings {
  get(ms: number): void;
  set(ms: number): void;
  delete(ms: number): void;
  list(ms: number): void;
}

const NO_TIMINGS: PolicyTimings = { get: () => {}, set: () => {}, delete: () => {}, list: () => {} };

async function timed<T>(observe: (ms: number) => void, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await run();
  } finally {
    observe(performance.now() - t0);
  }
}
const NAME = /^[\w.@-]+$/; // Vault allows most characters; refuse "/" and control characters here.

/**
 * Named ACL policies. Parsed policies and compiled ACLs are cached: a policy is parsed once when
 * written or first read, and a set of policies is compiled once until one of them changes.
 */
export class PolicyStore {
  readonly #view: StorageView;
  readonly #parsed = new Map<string, Policy>();
  readonly #acls = new Map<string, Acl>();
  /** The compiled ACL by the very array of policy names a token entry holds, for this generation of policies. */
  readonly #byNames = new WeakMap<readonly string[], { generation: number; acl: Acl }>();
  /** Bumped whenever a policy changes (or the server seals): every cached ACL is stale then. */
  #generation = 0;

  readonly #timings: PolicyTimings;

  constructor(view: StorageView, timings: PolicyTimings = NO_TIMINGS) {
    this.#view = view;
    this.#timings = timings;
  }

  /** Write the built-in default policy if it is missing (at initialisation). */
  async ensureDefault(): Promise<void> {
    if ((await this.get('default')) === null) await this.set('default', DEFAULT_POLICY);
  }

  static normalise(name: string): string {
    return name.trim().toLowerCase();
  }

  async list(): Promise<string[]> {
    return timed(this.#timings.list, async () => {
      const names = (await this.#view.list('')).filter((n) => !n.endsWith('/'));
      return [...new Set([...names, 'root'])].sort();
    });
  }

  async get(name: string): Promise<Policy | null> {
    const n = PolicyStore.normalise(name);
    if (n === 'root') return ROOT;
    const hit = this.#parsed.get(n);
    if (hit) return hit;
    return timed(this.#timings.get, async () => {
      const stored = await getJSON<StoredPolicy>(this.#view, n);
      if (!stored) return null;
      const policy = parsePolicy(n, stored.raw);
      this.#parsed.set(n, policy);
      return policy;
    });
  }

  async set(name: string, raw: string): Promise<void> {
    const n = PolicyStore.normalise(name);
    if (n === '' || !NAME.test(n)) throw badRequest(`invalid policy name "${name}"`);
    if (n === 'root') throw badRequest('cannot update "root" policy');
    const policy = parsePolicy(n, raw);
    await timed(this.#timings.set, () => putJSON(this.#view, n, { name: n, raw } satisfies StoredPolicy));
    this.#parsed.set(n, policy);
    this.#invalidate();
  }

  async delete(name: string): Promise<void> {
    const n = PolicyStore.normalise(name);
    if (n === 'root') throw badRequest('cannot delete "root" policy');
    if (n === 'default') throw badRequest('cannot delete "default" policy');
    await timed(this.#timings.delete, () => this.#view.delete(n));
    this.#parsed.delete(n);
    this.#invalidate();
  }

  /** The compiled ACL for this array of names, if one is ready (no waiting on the hot path). */
  aclCached(names: readonly string[]): Acl | undefined {
    const hit = this.#byNames.get(names);
    return hit !== undefined && hit.generation === this.#generation ? hit.acl : undefined;
  }

  /**
   * The compiled ACL for a set of policy names; missing policies contribute nothing. A templated
   * policy is resolved for `who` (the caller's entity and groups, under a key that changes
   * whenever they do); its ACL is cached under that key, never by the names alone.
   */
  async acl(names: readonly string[], who?: { readonly key: string; readonly identity: () => TemplateIdentity }): Promise<Acl> {
    const generation = this.#generation;
    const { acl, templated } = await this.#compile(names, who);
    if (!templated && generation === this.#generation) this.#byNames.set(names, { generation, acl });
    return acl;
  }

  async #compile(names: readonly string[], who?: { readonly key: string; readonly identity: () => TemplateIdentity }): Promise<{ acl: Acl; templated: boolean }> {
    const key = names.join('\n');
    const plain = this.#acls.get(key);
    if (plain) return { acl: plain, templated: false };
    const personal = who ? this.#acls.get(`${who.key}\n${key}`) : undefined;
    if (personal) return { acl: personal, templated: true };
    const generation = this.#generation;
    const policies: Policy[] = [];
    for (const name of names) {
      const p = await this.get(name);
      if (p) policies.push(p);
    }
    const templated = policies.some((p) => p.templated);
    if (templated) {
      // With no identity to fill them in, templated rules grant nothing.
      const identity = who?.identity() ?? { entity: null, groups: [] };
      const acl = compileAcl(policies.map((p) => (p.templated ? resolvePolicy(p, identity) : p)));
      if (who && generation === this.#generation) {
        if (this.#acls.size > 10_000) this.#acls.clear();
        this.#acls.set(`${who.key}\n${key}`, acl);
      }
      return { acl, templated };
    }
    const acl = compileAcl(policies);
    // A policy that changed while this one compiled makes it stale: answer, but never keep it.
    if (generation === this.#generation) {
      if (this.#acls.size > 10_000) this.#acls.clear();
      this.#acls.set(key, acl);
    }
    return { acl, templated };
  }

  #invalidate(): void {
    this.#acls.clear();
    this.#generation++;
  }

  /** Forget cached state (on seal). */
  reset(): void {
    this.#parsed.clear();
    this.#invalidate();
  }
}
