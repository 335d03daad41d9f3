import { badRequest, getJSON, putJSON, type StorageView } from '../../logical/index.js';
import { compileAcl, type Acl } from './acl.js';
import { DEFAULT_POLICY } from './builtin.js';
import { parsePolicy, type Policy } from './policy.js';

interface StoredPolicy {
  name: string;
  raw: string;
}

const ROOT: Policy = { name: 'root', raw: '', rules: [] };
const NAME = /^[\w.@-]+$/; // Vault allows most characters; refuse "/" and control characters here.

/**
 * Named ACL policies. Parsed policies and compiled ACLs are cached: a policy is parsed once when
 * written or first read, and a set of policies is compiled once until one of them changes.
 */
export class PolicyStore {
  readonly #view: StorageView;
  readonly #parsed = new Map<string, Policy>();
  readonly #acls = new Map<string, Acl>();

  constructor(view: StorageView) {
    this.#view = view;
  }

  /** Write the built-in default policy if it is missing (at initialisation). */
  async ensureDefault(): Promise<void> {
    if ((await this.get('default')) === null) await this.set('default', DEFAULT_POLICY);
  }

  static normalise(name: string): string {
    return name.trim().toLowerCase();
  }

  async list(): Promise<string[]> {
    const names = (await this.#view.list('')).filter((n) => !n.endsWith('/'));
    return [...new Set([...names, 'root'])].sort();
  }

  async get(name: string): Promise<Policy | null> {
    const n = PolicyStore.normalise(name);
    if (n === 'root') return ROOT;
    const hit = this.#parsed.get(n);
    if (hit) return hit;
    const stored = await getJSON<StoredPolicy>(this.#view, n);
    if (!stored) return null;
    const policy = parsePolicy(n, stored.raw);
    this.#parsed.set(n, policy);
    return policy;
  }

  async set(name: string, raw: string): Promise<void> {
    const n = PolicyStore.normalise(name);
    if (n === '' || !NAME.test(n)) throw badRequest(`invalid policy name "${name}"`);
    if (n === 'root') throw badRequest('cannot update "root" policy');
    const policy = parsePolicy(n, raw);
    await putJSON(this.#view, n, { name: n, raw } satisfies StoredPolicy);
    this.#parsed.set(n, policy);
    this.#acls.clear();
  }

  async delete(name: string): Promise<void> {
    const n = PolicyStore.normalise(name);
    if (n === 'root') throw badRequest('cannot delete "root" policy');
    if (n === 'default') throw badRequest('cannot delete "default" policy');
    await this.#view.delete(n);
    this.#parsed.delete(n);
    this.#acls.clear();
  }

  /** The compiled ACL for a set of policy names; missing policies contribute nothing. */
  async acl(names: readonly string[]): Promise<Acl> {
    const key = names.join('\n');
    const hit = this.#acls.get(key);
    if (hit) return hit;
    const policies: Policy[] = [];
    for (const name of names) {
      const p = await this.get(name);
      if (p) policies.push(p);
    }
    const acl = compileAcl(policies);
    if (this.#acls.size > 10_000) this.#acls.clear();
    this.#acls.set(key, acl);
    return acl;
  }

  /** Forget cached state (on seal). */
  reset(): void {
    this.#parsed.clear();
    this.#acls.clear();
  }
}
