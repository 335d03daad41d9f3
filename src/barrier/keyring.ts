import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

export interface KeyTerm {
  readonly term: number;
  readonly key: KeyObject;
  readonly installedAt: string;
}

interface StoredKeyring {
  activeTerm: number;
  terms: { term: number; key: string; installedAt: string }[];
}

/**
 * The data-encryption keys, one per term. New writes use the active term; older terms stay so
 * that values written before a rotation still decrypt. Immutable: rotation returns a new ring.
 */
export class Keyring {
  readonly #terms: ReadonlyMap<number, KeyTerm>;
  readonly activeTerm: number;

  private constructor(terms: ReadonlyMap<number, KeyTerm>, activeTerm: number) {
    this.#terms = terms;
    this.activeTerm = activeTerm;
  }

  static create(now: Date): Keyring {
    const term: KeyTerm = { term: 1, key: createSecretKey(randomBytes(32)), installedAt: now.toISOString() };
    return new Keyring(new Map([[1, term]]), 1);
  }

  static deserialize(raw: Uint8Array): Keyring {
    const stored = JSON.parse(new TextDecoder().decode(raw)) as StoredKeyring;
    const terms = new Map<number, KeyTerm>();
    for (const t of stored.terms) {
      terms.set(t.term, { term: t.term, key: createSecretKey(Buffer.from(t.key, 'base64')), installedAt: t.installedAt });
    }
    if (!terms.has(stored.activeTerm)) throw new Error(`keyring is corrupt: active term ${stored.activeTerm} is missing`);
    return new Keyring(terms, stored.activeTerm);
  }

  serialize(): Uint8Array {
    const stored: StoredKeyring = {
      activeTerm: this.activeTerm,
      terms: [...this.#terms.values()].map((t) => ({
        term: t.term,
        key: t.key.export().toString('base64'),
        installedAt: t.installedAt,
      })),
    };
    return new TextEncoder().encode(JSON.stringify(stored));
  }

  get active(): KeyTerm {
    const t = this.#terms.get(this.activeTerm);
    if (!t) throw new Error('keyring has no active term');
    return t;
  }

  term(n: number): KeyTerm | undefined {
    return this.#terms.get(n);
  }

  rotate(now: Date): Keyring {
    const next = this.activeTerm + 1;
    const terms = new Map(this.#terms);
    terms.set(next, { term: next, key: createSecretKey(randomBytes(32)), installedAt: now.toISOString() });
    return new Keyring(terms, next);
  }
}
